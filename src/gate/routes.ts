import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireMember, requireService } from '../platform/web/auth.js';
import { problems, Strict } from '../platform/web/schemas.js';
import { ACTIONS, type GateService } from './service.js';

const ReasonSchema = Type.Union([
  Type.Literal('phone_verification_required'),
  Type.Literal('email_verification_required'),
  Type.Literal('two_step_required'),
  Type.Literal('step_up_required'),
  Type.Literal('account_locked'),
  Type.Literal('account_closed'),
]);
const DecisionSchema = Type.Object({ allowed: Type.Boolean(), reasons: Type.Array(ReasonSchema) });
const ActionSchema = Type.Union(ACTIONS.map((a) => Type.Literal(a)), { description: ACTIONS.join(', ') });

/** /v1/gate/check for other marketplace services; /v1/me/permissions for the member. */
export const gateRoutes: FastifyPluginAsyncTypebox<{ gate: GateService }> = async (app, { gate }) => {
  app.post('/gate/check', {
    preHandler: requireService,
    schema: {
      tags: ['gate'],
      summary: 'May this account do this action now? post_job and submit_proposal need a verified phone and e-mail; view_payments and withdraw_funds also a recent 2SV check',
      security: [{ serviceKey: [] }],
      body: Strict({
        accountId: Type.String({ minLength: 1, maxLength: 64 }),
        action: ActionSchema,
        sessionId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The session the service acts for; view_payments and withdraw_funds judge its step-up' })),
      }),
      response: { 200: DecisionSchema, ...problems(400, 401, 404) },
    },
  }, async (request) => gate.check(request.body.accountId, request.body.action, request.body.sessionId));

  app.get('/me/permissions', {
    preHandler: requireMember,
    schema: {
      tags: ['gate'],
      summary: 'What the signed-in member may do now, and why not',
      security: [{ session: [] }],
      response: {
        200: Type.Object({ post_job: DecisionSchema, submit_proposal: DecisionSchema, view_payments: DecisionSchema, withdraw_funds: DecisionSchema }),
        ...problems(401),
      },
    },
  }, async (request) => {
    const { account, session } = member(request);
    return gate.permissions(account, session);
  });
};
