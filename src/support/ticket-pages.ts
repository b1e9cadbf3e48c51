import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError, invalid, type FieldError } from '../platform/errors.js';
import { currentMember } from '../platform/web/auth.js';
import { parseForm } from '../platform/web/form.js';
import { field, handleForm, renderPage } from '../platform/web/pages.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { checkMessage, checkTicket, type TicketOptions } from './ticket-routes.js';
import { categoryLabels, MessageBody, NewTicketBody } from './ticket-schemas.js';
import type { NewTicket } from './tickets.js';

export const statusLabels = { open: 'Open', pending: 'Waiting for your reply', solved: 'Solved', closed: 'Closed' } as const;

const notices: Record<string, string> = {
  created: 'We received your request and sent a copy of this page’s link to your e-mail. We will answer there.',
  replied: 'Your reply is added to the conversation.',
};

function idAndKey(request: FastifyRequest): { id: string; key: string } {
  const { id } = request.params as { id: string };
  const { key } = request.query as { key?: unknown };
  return { id, key: typeof key === 'string' ? key : '' };
}

/**
 * The form's fields as the API's body, with every refusal at once: the schema's (a category
 * left at "Choose one" is missing) and the checks after it (an e-mail that is no address).
 */
function contactInput(request: FastifyRequest, values: Record<string, string>): NewTicket {
  // The sentences written for people first; the schema's only where they say nothing.
  const errors: FieldError[] = values.category ? [] : [{ path: '/category', message: 'Choose what your request is about.' }];
  const add = (more: FieldError[]) => errors.push(...more.filter((fe) => !errors.some((e) => e.path === fe.path)));
  try {
    checkTicket({ ...(values as unknown as NewTicket), login: undefined });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    add(error.fieldErrors);
  }
  let input: NewTicket | undefined;
  try {
    // A blank optional login is "not given".
    input = parseForm(request, NewTicketBody, { login: values.login?.trim() || undefined, category: values.category || undefined });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    add(error.fieldErrors);
  }
  if (errors.length || !input) throw invalid(errors);
  return input;
}

export function ticketPath(id: string, key: string, done?: string): string {
  return `/support/tickets/${id}?key=${encodeURIComponent(key)}${done ? `&done=${done}` : ''}`;
}

/** /support/contact and the requester's ticket page /support/tickets/{id}?key=. */
export const ticketPages: FastifyPluginAsync<TicketOptions> = async (app, { tickets }) => {
  const csrf = { preValidation: app.csrfProtection };
  const title = 'Contact support';

  app.get('/support/contact', async (request, reply) => {
    // A signed-in member's own details are filled in; any of them may be changed.
    const found = await currentMember(request);
    const values = found ? { email: found.account.email, login: found.account.username, name: found.account.full_name ?? '' } : {};
    return renderPage(request, reply, 'support-contact', { title, values, categories: categoryLabels });
  });

  app.post('/support/contact', csrf, async (request, reply) => {
    const names = ['name', 'email', 'login', 'category', 'subject', 'message'] as const;
    const values = Object.fromEntries(names.map((n) => [n, field(request.body, n)]));
    return handleForm(request, reply, { template: 'support-contact', title, values, extra: { categories: categoryLabels } }, async () => {
      const input = contactInput(request, values);
      const opened = await tickets.open(input, 'web', requestMeta(request));
      return ticketPath(opened.ticketId, opened.key, 'created');
    });
  });

  app.get('/support/tickets/:id', async (request, reply) => {
    const { id, key } = idAndKey(request);
    const ticket = await tickets.view(id, key);
    const done = (request.query as { done?: unknown }).done;
    return renderPage(request, reply, 'support-ticket', {
      title: ticket.subject,
      ticket,
      key,
      categories: categoryLabels,
      statusLabels,
      done: typeof done === 'string' ? notices[done] : undefined,
    });
  });

  app.post('/support/tickets/:id/messages', csrf, async (request, reply) => {
    const { id, key } = idAndKey(request);
    // A wrong key or id is the 404 page, before anything is read from the form.
    const ticket = await tickets.view(id, key);
    const values = { message: field(request.body, 'message') };
    const extra = { ticket, key, categories: categoryLabels, statusLabels };
    return handleForm(request, reply, { template: 'support-ticket', title: ticket.subject, values, extra }, async () => {
      const { message } = parseForm(request, MessageBody);
      checkMessage(message);
      await tickets.reply(ticket.id, key, message, 'web');
      return ticketPath(ticket.id, key, 'replied');
    });
  });
};
