import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireMember, setDeviceCookie, setSessionCookie } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { AccountSchema, CloseBody, PasswordChangeBody, ProfileBody, SessionTokenSchema, SignUpBody, TokenBody } from './schemas.js';

/** /v1/accounts and /v1/me: sign-up, e-mail verification, profile, closing. */
export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { accounts, config, twoStep } = app.verity;
  // Without 2SV the current password in the body is the fresh check; with 2SV on, the
  // session must have stepped up with a two-step method.
  const passwordOrStepUp = app.verity.stepUp.requireIf((request) => twoStep.isEnabled(member(request).account.id));

  app.post('/accounts', {
    schema: {
      tags: ['accounts'],
      summary: 'Create an account (one per person; roles are on the account)',
      body: SignUpBody,
      response: { 201: Type.Object({ account: AccountSchema, session: SessionTokenSchema }), ...problems(400, 409, 422, 429) },
    },
  }, async (request, reply) => {
    const { account, issued } = await accounts.signUp(request.body, requestMeta(request));
    setDeviceCookie(reply, issued.device.cookie, config.production);
    return reply.code(201).send({
      account: await accounts.view(account),
      session: { token: issued.token, expiresAt: issued.expiresAt.toISOString() },
    });
  });

  app.post('/accounts/email-verification', {
    schema: {
      tags: ['accounts'],
      summary: 'Confirm an e-mail address with the token from the verification link',
      body: TokenBody,
      response: { 200: Type.Object({ account: AccountSchema }), ...problems(400, 410) },
    },
  }, async (request) => {
    const account = await accounts.verifyEmail(request.body.token, requestMeta(request));
    return { account: await accounts.view(account) };
  });

  app.post('/me/email-verification', {
    preHandler: requireMember,
    schema: {
      tags: ['accounts'],
      summary: 'Send a new e-mail verification link (earlier links stop working)',
      security: [{ session: [] }],
      response: { 202: Type.Object({ status: Type.Literal('sent') }), ...problems(401, 429) },
    },
  }, async (request, reply) => {
    await accounts.resendVerification(member(request).account.id);
    return reply.code(202).send({ status: 'sent' as const });
  });

  app.get('/me', {
    preHandler: requireMember,
    schema: { tags: ['accounts'], summary: 'The signed-in account', security: [{ session: [] }], response: { 200: AccountSchema, ...problems(401) } },
  }, async (request) => accounts.view(member(request).account));

  app.patch('/me', {
    preHandler: requireMember,
    schema: {
      tags: ['accounts'],
      summary: 'Change roles, name or country',
      security: [{ session: [] }],
      body: ProfileBody,
      response: { 200: AccountSchema, ...problems(400, 401) },
    },
  }, async (request) => {
    const updated = await accounts.updateProfile(member(request).account.id, request.body, requestMeta(request));
    return accounts.view(updated);
  });

  app.post('/me/password', {
    preHandler: passwordOrStepUp,
    schema: {
      tags: ['accounts'],
      summary: 'Change the password: the current one is checked, every other session ends and a notice is e-mailed',
      security: [{ session: [] }],
      body: PasswordChangeBody,
      response: {
        200: Type.Object({ status: Type.Literal('password_changed'), sessionsEnded: Type.Integer() }),
        ...problems(400, 401, 403, 422, 423),
      },
    },
  }, async (request) => {
    const { account, session } = member(request);
    const { sessionsEnded } = await accounts.changePassword(account.id, session.id, request.body, requestMeta(request));
    return { status: 'password_changed' as const, sessionsEnded };
  });

  app.post('/me/close', {
    preHandler: passwordOrStepUp,
    schema: {
      tags: ['accounts'],
      summary: 'Close the account: sessions end, sign-in is refused, the phone number is released',
      security: [{ session: [] }],
      body: CloseBody,
      response: { 200: Type.Object({ status: Type.Literal('closed') }), ...problems(400, 401, 403, 423) },
    },
  }, async (request, reply) => {
    await accounts.close(member(request).account.id, request.body.password, requestMeta(request));
    setSessionCookie(reply, '', new Date(0), config.production);
    return { status: 'closed' as const };
  });

};
