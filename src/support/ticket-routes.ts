import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkEmail } from '../accounts/rules.js';
import { invalid, type FieldError } from '../platform/errors.js';
import { requireService } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import type { TicketDesk } from './ticket-desk.js';
import { Created, InboundEmailBody, KeyQuery, MemberView, MessageBody, NewTicketBody, TicketParams } from './ticket-schemas.js';
import type { NewTicket, TicketService } from './tickets.js';

export interface TicketOptions {
  tickets: TicketService;
  desk: TicketDesk;
}

/** Blank after trimming is no answer: the same refusals on the API and the contact form. */
export function checkTicket(input: NewTicket): void {
  const errors: FieldError[] = [];
  checkEmail(input.email.trim(), errors, '/email');
  if (!input.name.trim()) errors.push({ path: '/name', message: 'Tell us your name.' });
  if (!input.subject.trim()) errors.push({ path: '/subject', message: 'Give your request a subject.' });
  if (!input.message.trim()) errors.push({ path: '/message', message: 'Tell us what happened and what you need.' });
  if (errors.length) throw invalid(errors);
}

export function checkMessage(message: string): void {
  if (!message.trim()) throw invalid([{ path: '/message', message: 'Write a message.' }]);
}

/** /v1/support/*: contact support without signing in, and replies by e-mail. */
export const ticketRoutes: FastifyPluginAsyncTypebox<TicketOptions> = async (app, { tickets }) => {
  app.post('/support/tickets', {
    schema: {
      tags: ['support'],
      summary: 'Contact support without signing in: answers the ticket id and its secret key (the page is /support/tickets/{id}?key=); the answer is the same whatever the login',
      body: NewTicketBody,
      response: { 201: Created, ...problems(400, 429) },
    },
  }, async (request, reply) => {
    checkTicket(request.body);
    return reply.code(201).send(await tickets.open(request.body, 'api', requestMeta(request)));
  });

  app.get('/support/tickets/:id', {
    schema: {
      tags: ['support'],
      summary: "The requester's view of a ticket: its status and messages (an unknown id and a wrong key are both 404)",
      params: TicketParams,
      querystring: KeyQuery,
      response: { 200: MemberView, ...problems(400, 404) },
    },
  }, async (request) => tickets.view(request.params.id, request.query.key));

  app.post('/support/tickets/:id/messages', {
    schema: {
      tags: ['support'],
      summary: 'The requester answers: a solved or pending ticket opens again; a closed one takes no reply (409 ticket_closed, open a new ticket)',
      params: TicketParams,
      querystring: KeyQuery,
      body: MessageBody,
      response: { 201: Type.Object({ messageId: Type.String(), status: Type.Literal('open') }), ...problems(400, 404, 409, 429) },
    },
  }, async (request, reply) => {
    checkMessage(request.body.message);
    return reply.code(201).send(await tickets.reply(request.params.id, request.query.key, request.body.message, 'api'));
  });

  app.post('/support/inbound-email', {
    preHandler: requireService,
    schema: {
      tags: ['support'],
      summary:
        "A reply by e-mail, from the mail provider's inbound webhook (service key): the ticket is named by its reply address among the recipients; quoted history is dropped; a second delivery of one Message-ID is recognised (200) rather than added",
      security: [{ serviceKey: [] }],
      body: InboundEmailBody,
      response: {
        201: Type.Object({ ticketId: Type.String(), messageId: Type.String(), duplicate: Type.Literal(false) }),
        200: Type.Object({ ticketId: Type.String(), messageId: Type.String(), duplicate: Type.Literal(true) }),
        ...problems(400, 401, 404, 409, 429),
      },
    },
  }, async (request, reply) => {
    const received = await tickets.receiveEmail(request.body);
    return reply.code(received.duplicate ? 200 : 201).send(received);
  });
};
