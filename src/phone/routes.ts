import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireMember, requireStaff } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import {
  PhoneStatusSchema,
  ResendBody,
  StartBody,
  VerificationSchema,
  VerifiedPhoneSchema,
  VerifyBody,
  VoipRangeBody,
  VoipRangeSchema,
} from './schemas.js';

/** /v1/me/phone: verify a phone number by a one-time code; /v1/admin/phone: operator VoIP ranges. */
export const phoneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { phone } = app.verity;
  const signedIn = { preHandler: requireMember };
  const security = [{ session: [] }];
  // Replacing or removing a verified number is sensitive; verifying a first one is not.
  const changingNumber = { preHandler: app.verity.stepUp.requireIf((request) => phone.hasVerifiedPhone(member(request).account.id)) };
  // A removal that would be refused anyway (the last two-step method) says so before asking for a step-up.
  const removingNumber = { preHandler: [requireMember, (request: FastifyRequest) => phone.checkRemovable(member(request).account.id), app.verity.stepUp.require] };

  app.get('/me/phone', {
    ...signedIn,
    schema: { tags: ['phone'], summary: 'The verified number, and the verification in progress with its delivery status', security, response: { 200: PhoneStatusSchema, ...problems(401) } },
  }, async (request) => phone.status(member(request).account.id));

  app.post('/me/phone', {
    ...changingNumber,
    schema: {
      tags: ['phone'],
      summary: 'Start verifying a number: a code goes out by SMS (landlines: by voice call)',
      description: 'VoIP numbers (phone_voip) and toll-free, premium-rate, shared-cost, pager, UAN, personal, voicemail and machine-to-machine numbers (phone_type_unsupported, with lineType; M2M for operator-listed ranges such as +3197) are refused. A line verified on another live account, in any of its forms (+54 9 11… and +54 11…), is refused with phone_in_use, recovery links and a help article; the account holding it is never named, and the forgot_password link carries the request (the number as login) that e-mails a reset link to that account.',
      security,
      body: StartBody,
      response: { 202: Type.Object({ verification: VerificationSchema }), ...problems(400, 401, 403, 409, 422, 429) },
    },
  }, async (request, reply) => {
    const verification = await phone.start(member(request).account.id, request.body, requestMeta(request));
    return reply.code(202).send({ verification });
  });

  app.post('/me/phone/resend', {
    ...signedIn,
    // Every field is optional, so an empty request (no body at all) means "the same channel".
    preValidation: async (request) => {
      request.body ??= {};
    },
    schema: {
      tags: ['phone'],
      summary: 'Send a new code (the previous one stops working), by SMS or voice call; the wait between codes grows',
      security,
      body: ResendBody,
      response: { 202: Type.Object({ verification: VerificationSchema }), ...problems(400, 401, 404, 429) },
    },
  }, async (request, reply) => {
    const verification = await phone.resend(member(request).account.id, request.body, requestMeta(request));
    return reply.code(202).send({ verification });
  });

  app.post('/me/phone/verify', {
    ...signedIn,
    schema: {
      tags: ['phone'],
      summary: 'Enter the code; at most 5 tries per code, each code lives 10 minutes',
      security,
      body: VerifyBody,
      response: { 200: VerifiedPhoneSchema, ...problems(400, 401, 404, 409, 410, 422, 429) },
    },
  }, async (request) => ({ phone: await phone.verify(member(request).account.id, request.body, requestMeta(request)) }));

  app.delete('/me/phone', {
    ...removingNumber,
    schema: { tags: ['phone'], summary: 'Remove the phone number', security, response: { 204: Type.Null(), ...problems(401, 403, 409) } },
  }, async (request, reply) => {
    await phone.remove(member(request).account.id, requestMeta(request));
    return reply.code(204).send(null);
  });

  const adminOnly = { preHandler: requireStaff('admin') };

  app.get('/admin/phone/voip-ranges', {
    ...adminOnly,
    schema: { tags: ['admin'], summary: 'Number ranges (E.164 prefixes) refused beyond the numbering plan: as VoIP, or as machine-to-machine (kind m2m)', security, response: { 200: Type.Array(VoipRangeSchema), ...problems(401, 403) } },
  }, async () => phone.voipRanges.list());

  app.post('/admin/phone/voip-ranges', {
    ...adminOnly,
    schema: {
      tags: ['admin'],
      summary: 'Refuse a number range as VoIP or (kind m2m) machine-to-machine (201; 200 when it was listed already, unchanged)',
      security,
      body: VoipRangeBody,
      response: { 201: VoipRangeSchema, 200: VoipRangeSchema, ...problems(400, 401, 403) },
    },
  }, async (request, reply) => {
    const { range, created } = await phone.voipRanges.add(member(request).account.id, request.body, requestMeta(request));
    return reply.code(created ? 201 : 200).send(range);
  });

  app.delete('/admin/phone/voip-ranges/:id', {
    ...adminOnly,
    schema: {
      tags: ['admin'],
      summary: 'Stop refusing a range',
      security,
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    await phone.voipRanges.remove(member(request).account.id, request.params.id, requestMeta(request));
    return reply.code(204).send(null);
  });
};
