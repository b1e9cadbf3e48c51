import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AccountSchema, SessionTokenSchema } from '../accounts/schemas.js';
import { ChallengeSchema } from '../challenges/schemas.js';
import { member, requireMember, setDeviceCookie } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { SignInBody } from './schemas.js';

const SessionSchema = Type.Object({
  id: Type.String(),
  createdAt: Type.String(),
  lastSeenAt: Type.String(),
  expiresAt: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});

/** /v1/sessions: sign in, list devices, sign out here or everywhere else. */
export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { sessions, accounts } = app.verity;

  app.post('/sessions', {
    schema: {
      tags: ['sessions'],
      summary: 'Sign in with a username or e-mail and a password',
      body: SignInBody,
      response: {
        200: Type.Union([
          Type.Object({ status: Type.Literal('authenticated'), session: SessionTokenSchema, account: AccountSchema }, { additionalProperties: true }),
          Type.Object({ status: Type.Literal('two_step_required'), challenge: ChallengeSchema }, { additionalProperties: true }),
        ]),
        ...problems(400, 401, 423, 429),
      },
    },
  }, async (request, reply) => {
    const result = await sessions.signIn(request.body, requestMeta(request));
    if (result.status === 'two_step_required') return { status: result.status, challenge: result.challenge };
    // Clients that keep cookies are recognised at their next sign-in; others are a new browser each time.
    setDeviceCookie(reply, result.issued.device.cookie, app.verity.config.production);
    return {
      status: 'authenticated' as const,
      session: { token: result.issued.token, expiresAt: result.issued.expiresAt.toISOString() },
      account: await accounts.view(result.account),
    };
  });

  app.get('/sessions', {
    preHandler: requireMember,
    schema: { tags: ['sessions'], summary: 'Open sessions of the signed-in account', security: [{ session: [] }], response: { 200: Type.Array(SessionSchema), ...problems(401) } },
  }, async (request) => {
    const { account, session } = member(request);
    return sessions.list(account.id, session.id);
  });

  app.delete('/sessions/current', {
    preHandler: requireMember,
    schema: { tags: ['sessions'], summary: 'Sign out', security: [{ session: [] }], response: { 204: Type.Null(), ...problems(401) } },
  }, async (request, reply) => {
    const { account, session } = member(request);
    await sessions.signOut(account.id, session.id, requestMeta(request));
    return reply.code(204).send(null);
  });

  app.delete('/sessions/:id', {
    preHandler: requireMember,
    schema: {
      tags: ['sessions'],
      summary: 'End one session of the signed-in account',
      security: [{ session: [] }],
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const { account } = member(request);
    await sessions.revoke(account.id, request.params.id, requestMeta(request));
    return reply.code(204).send(null);
  });

  app.delete('/sessions', {
    preHandler: requireMember,
    schema: { tags: ['sessions'], summary: 'End every session but this one', security: [{ session: [] }], response: { 204: Type.Null(), ...problems(401) } },
  }, async (request, reply) => {
    const { account, session } = member(request);
    await sessions.revokeOthers(account.id, session.id, requestMeta(request));
    return reply.code(204).send(null);
  });
};
