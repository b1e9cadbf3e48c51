import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { currentMember, setDeviceCookie } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { ChallengeParams, ChallengeSchema, OptionsResponse, SendBody, SendResponse, VerifyBody, VerifyResponse } from './schemas.js';
import type { ChallengeService } from './service.js';

/** The session a request carries, if any: a step-up challenge answers only its own. */
export async function callerOf(request: FastifyRequest) {
  return { sessionId: (await currentMember(request))?.session.id ?? null };
}

/** /v1/challenges/{id}: the id is the credential, so no session is needed (except for step-up). */
export const challengeRoutes: FastifyPluginAsyncTypebox<{ challenges: ChallengeService }> = async (app, { challenges }) => {
  const { accounts } = app.verity;

  app.get('/challenges/:id', {
    schema: { tags: ['challenges'], summary: 'A challenge and the methods that can pass it', params: ChallengeParams, response: { 200: ChallengeSchema, ...problems(410) } },
  }, async (request) => challenges.describe(request.params.id, await callerOf(request)));

  app.post('/challenges/:id/send', {
    schema: {
      tags: ['challenges'],
      summary: 'Send a code by e-mail, SMS or call (or get passkey options)',
      params: ChallengeParams,
      body: SendBody,
      response: { 200: OptionsResponse, 202: SendResponse, ...problems(400, 410, 429) },
    },
  }, async (request, reply) => {
    const result = await challenges.send(request.params.id, request.body.method, await callerOf(request), requestMeta(request));
    if ('options' in result) return reply.code(200).send({ options: result.options });
    return reply.code(202).send({ resendAfter: result.resendAfter.toISOString() });
  });

  app.post('/challenges/:id/verify', {
    schema: {
      tags: ['challenges'],
      summary: 'Pass a challenge with one of its methods',
      params: ChallengeParams,
      body: VerifyBody,
      response: { 200: VerifyResponse, ...problems(400, 410, 422, 423, 429) },
    },
  }, async (request, reply) => {
    const passed = await challenges.verify(request.params.id, request.body, await callerOf(request), requestMeta(request));
    switch (passed.purpose) {
      case 'login':
        setDeviceCookie(reply, passed.issued.device.cookie, app.verity.config.production);
        return {
          status: 'authenticated' as const,
          session: { token: passed.issued.token, expiresAt: passed.issued.expiresAt.toISOString() },
          account: await accounts.view(passed.account),
        };
      case 'step_up':
        return { elevatedUntil: passed.elevatedUntil.toISOString() };
      case 'recovery':
        return { status: 'verified' as const };
    }
  });
};
