import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireStaff } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { checkMessage, type TicketOptions } from './ticket-routes.js';
import { AgentMessageBody, AgentView, Status, StatusBody, TicketParams } from './ticket-schemas.js';

/** /v1/agent/tickets/*: agents read, answer and change tickets; every change is audited with the agent's id. */
export const ticketAgentRoutes: FastifyPluginAsyncTypebox<TicketOptions> = async (app, { desk }) => {
  const agentOnly = requireStaff('agent');

  app.get('/agent/tickets/:id', {
    preHandler: agentOnly,
    schema: {
      tags: ['agent'],
      summary: 'A ticket with its requester, the account it is about (resolved after the answer) and every message',
      security: [{ session: [] }],
      params: TicketParams,
      response: { 200: AgentView, ...problems(401, 403, 404) },
    },
  }, async (request) => desk.view(request.params.id));

  app.post('/agent/tickets/:id/messages', {
    preHandler: agentOnly,
    schema: {
      tags: ['agent'],
      summary: "An agent's answer, e-mailed to the requester with the page link; the status becomes pending unless given",
      security: [{ session: [] }],
      params: TicketParams,
      body: AgentMessageBody,
      response: { 201: Type.Object({ messageId: Type.String(), status: Status }), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    checkMessage(request.body.message);
    const sent = await desk.reply(member(request).account.id, request.params.id, request.body.message, request.body.status, 'api', requestMeta(request));
    return reply.code(201).send(sent);
  });

  app.patch('/agent/tickets/:id', {
    preHandler: agentOnly,
    schema: {
      tags: ['agent'],
      summary: 'Sets the status: open, pending (waiting for the member), solved or closed; closed is final (409 ticket_closed)',
      security: [{ session: [] }],
      params: TicketParams,
      body: StatusBody,
      response: { 200: Type.Object({ id: Type.String(), status: Status }), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request) => desk.setStatus(member(request).account.id, request.params.id, request.body.status, requestMeta(request)));
};
