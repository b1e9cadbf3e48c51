import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { member, requireStaff } from '../platform/web/auth.js';
import { parseForm } from '../platform/web/form.js';
import { field, handleForm, renderPage } from '../platform/web/pages.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { checkMessage, type TicketOptions } from './ticket-routes.js';
import { AgentMessageBody, categoryLabels, StatusBody } from './ticket-schemas.js';

const statusLabels = { open: 'Open', pending: 'Pending (waiting for the member)', solved: 'Solved', closed: 'Closed (final)' } as const;

const notices: Record<string, string> = {
  replied: 'Your reply is sent to the requester by e-mail.',
  status: 'The status is changed.',
};

/** /agent/tickets/{id}: the conversation, a reply form and the status, for staff only. */
export const ticketAgentPages: FastifyPluginAsync<TicketOptions> = async (app, { desk }) => {
  const staffOnly = { preHandler: requireStaff('agent') };
  const csrf = { ...staffOnly, preValidation: app.csrfProtection };

  async function pageData(request: FastifyRequest) {
    const { id } = request.params as { id: string };
    const ticket = await desk.view(id);
    // The queue belongs to the agents' desk; link back to it once it is there.
    const queue = request.server.hasRoute({ method: 'GET', url: '/agent' });
    return { title: `Ticket: ${ticket.subject}`, ticket, categories: categoryLabels, statusLabels, queue };
  }

  app.get('/agent/tickets/:id', staffOnly, async (request, reply) => {
    const data = await pageData(request);
    const done = (request.query as { done?: unknown }).done;
    return renderPage(request, reply, 'agent-ticket', { ...data, done: typeof done === 'string' ? notices[done] : undefined });
  });

  async function form(request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, action: (ticketId: string) => Promise<void>, done: string) {
    const { title, ...extra } = await pageData(request);
    return handleForm(request, reply, { template: 'agent-ticket', title, values, extra }, async () => {
      await action(extra.ticket.id);
      return `/agent/tickets/${extra.ticket.id}?done=${done}`;
    });
  }

  app.post('/agent/tickets/:id/messages', csrf, async (request, reply) => {
    const values = { message: field(request.body, 'message'), status: field(request.body, 'status') };
    return form(request, reply, values, async (ticketId) => {
      const input = parseForm(request, AgentMessageBody, { status: values.status || undefined });
      checkMessage(input.message);
      await desk.reply(member(request).account.id, ticketId, input.message, input.status, 'web', requestMeta(request));
    }, 'replied');
  });

  app.post('/agent/tickets/:id/status', csrf, async (request, reply) => {
    return form(request, reply, {}, async (ticketId) => {
      const { status } = parseForm(request, StatusBody);
      await desk.setStatus(member(request).account.id, ticketId, status, requestMeta(request));
    }, 'status');
  });
};
