import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireStaff } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { caseView } from './case-view.js';
import type { SecurityResetDeps } from './deps.js';
import { CaseParams, DecisionBody, InfoBody, KeyQuery, ResetParams, ResetRequestBody, ResetStatus, StatusView, TokenParams } from './schemas.js';
import type { SecurityResetService } from './service.js';

export interface SecurityResetOptions {
  securityResets: SecurityResetService;
  deps: SecurityResetDeps;
}

const Open = Type.Object({}, { additionalProperties: true });

/** /v1/recovery/security-reset… (the requester, signed out) and /v1/agent/security-resets… (staff). */
export const securityResetRoutes: FastifyPluginAsyncTypebox<SecurityResetOptions> = async (app, { securityResets, deps }) => {
  app.post('/recovery/security-reset', {
    schema: {
      tags: ['recovery'],
      summary: 'Lost phone: ask support to reset the security information; the answer is the same whether or not the login exists',
      body: ResetRequestBody,
      response: { 202: Type.Object({ requestId: Type.String(), status: Type.Literal('pending_review') }), ...problems(400, 429) },
    },
  }, async (request, reply) => reply.code(202).send(await securityResets.request(request.body, requestMeta(request))));

  app.get('/recovery/security-reset/:requestId', {
    schema: {
      tags: ['recovery'],
      summary: 'The status of a security reset request, with the key from the e-mailed link; wrong ids and keys are the same 404',
      params: ResetParams,
      querystring: KeyQuery,
      response: { 200: StatusView, ...problems(400, 404) },
    },
  }, async (request) => securityResets.status(request.params.requestId, request.query.key));

  app.post('/recovery/security-reset/:requestId/info', {
    schema: {
      tags: ['recovery'],
      summary: 'Add the information support asked for; the request goes back to review',
      params: ResetParams,
      querystring: KeyQuery,
      body: InfoBody,
      response: { 200: StatusView, ...problems(400, 404, 409, 429) },
    },
  }, async (request) => securityResets.addInfo(request.params.requestId, request.query.key, request.body.details, requestMeta(request)));

  app.post('/recovery/security-reset/:requestId/password-link', {
    schema: {
      tags: ['recovery'],
      summary: 'After the reset took effect: e-mail a new single-use link to choose a password (for a few days)',
      params: ResetParams,
      querystring: KeyQuery,
      response: { 202: Type.Object({ status: Type.Literal('sent') }), ...problems(400, 404, 429) },
    },
  }, async (request, reply) => {
    await securityResets.newPasswordLink(request.params.requestId, request.query.key);
    return reply.code(202).send({ status: 'sent' as const });
  });

  app.post('/recovery/security-reset/cancel/:token', {
    schema: {
      tags: ['recovery'],
      summary: "The account owner's link from the waiting-period e-mail or text: cancels an approved reset",
      params: TokenParams,
      response: { 200: Type.Object({ status: Type.Literal('cancelled') }), ...problems(400, 410) },
    },
  }, async (request) => {
    await securityResets.cancelByLink(request.params.token, requestMeta(request));
    return { status: 'cancelled' as const };
  });

  const agent = requireStaff('agent');

  app.get('/agent/security-resets/:id', {
    preHandler: agent,
    schema: {
      tags: ['support'],
      summary: "A security reset case beside the account's security history and what matches (agent)",
      security: [{ session: [] }],
      params: CaseParams,
      response: { 200: Open, ...problems(401, 403, 404) },
    },
  }, async (request) => caseView(deps, request.params.id));

  app.post('/agent/security-resets/:id/decision', {
    preHandler: agent,
    schema: {
      tags: ['support'],
      summary: 'Approve, deny or ask for more information, with a note the requester reads; once per review (409 already_decided)',
      security: [{ session: [] }],
      params: CaseParams,
      body: DecisionBody,
      response: { 200: Type.Object({ status: ResetStatus, effectiveAt: Type.Optional(Type.String()) }), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request) => securityResets.decide(request.params.id, member(request).account.id, request.body, requestMeta(request)));
};
