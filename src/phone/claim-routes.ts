import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireMember } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { ClaimSchema, ClaimStartBody, VerifyBody } from './schemas.js';

/** /v1/me/phone/claim: "this number is mine now", for a recycled number another account still holds. */
export const phoneClaimRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { claims } = app.verity.phone;
  const signedIn = { preHandler: requireMember };
  const security = [{ session: [] }];
  const tags = ['phone'];

  app.get('/me/phone/claim', {
    ...signedIn,
    schema: { tags, summary: 'The claim waiting for its code, if any', security, response: { 200: Type.Object({ claim: Type.Union([ClaimSchema, Type.Null()]) }), ...problems(401) } },
  }, async (request) => ({ claim: await claims.pending(member(request).account.id) }));

  app.post('/me/phone/claim', {
    ...signedIn,
    schema: {
      tags,
      summary: 'This number is mine now: send a code to a number verified on another account, to prove you hold the line',
      description: 'The answer to phone_in_use when a carrier gave you a number someone else used before. 409 phone_not_in_use when no other account holds it, 409 claim_open when your request is open already; the same send caps as verification.',
      security,
      body: ClaimStartBody,
      response: { 202: Type.Object({ claim: ClaimSchema }), ...problems(400, 401, 409, 422, 429) },
    },
  }, async (request, reply) => reply.code(202).send({ claim: await claims.start(member(request).account.id, request.body, requestMeta(request)) }));

  app.post('/me/phone/claim/verify', {
    ...signedIn,
    schema: {
      tags,
      summary: 'Enter the code sent to the number: a support case opens; if the holding account is dormant, an agent releases the number to you',
      description: 'You are told by e-mail when the number is free to verify. The other account is never named.',
      security,
      body: VerifyBody,
      response: { 201: Type.Object({ caseId: Type.String(), status: Type.Literal('open') }), ...problems(400, 401, 404, 409, 410, 422, 429) },
    },
  }, async (request, reply) => {
    const { caseId } = await claims.prove(member(request).account.id, request.body, requestMeta(request));
    return reply.code(201).send({ caseId, status: 'open' as const });
  });
};
