import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { EmailChangeBody } from '../recovery/schemas.js';
import { AccountSchema, TokenBody } from './schemas.js';

/** /v1/me/email and /v1/accounts/email-change: a new address, confirmed before it counts. */
export const emailChangeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { accounts } = app.verity;

  app.post('/me/email', {
    preHandler: app.verity.stepUp.require,
    schema: {
      tags: ['accounts'],
      summary: 'Change the e-mail address: a confirmation link goes to the new address; the old one is told once it takes effect',
      security: [{ session: [] }],
      body: EmailChangeBody,
      response: { 202: Type.Object({ status: Type.Literal('confirmation_sent') }), ...problems(400, 401, 403, 409, 429) },
    },
  }, async (request, reply) => {
    await accounts.emailChanges.request(member(request).account.id, request.body.email, requestMeta(request));
    return reply.code(202).send({ status: 'confirmation_sent' as const });
  });

  app.post('/accounts/email-change', {
    schema: {
      tags: ['accounts'],
      summary: 'Confirm a new e-mail address with the token from its link',
      body: TokenBody,
      response: { 200: Type.Object({ account: AccountSchema }), ...problems(400, 409, 410) },
    },
  }, async (request) => {
    const accountId = await accounts.emailChanges.confirm(request.body.token, requestMeta(request));
    return { account: await accounts.view(await accounts.get(accountId)) };
  });
};
