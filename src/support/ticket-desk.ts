import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { CaseStatus } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import { REPLY_MARKER } from './ticket-mail.js';
import * as q from './ticket-queries.js';
import { closed, type TicketService, type Via } from './tickets.js';

/** A ticket as an agent sees it: who asked, the account it is about, and every message. */
export interface AgentTicketView {
  id: string;
  status: CaseStatus;
  priority: string;
  category: string;
  subject: string;
  name: string;
  email: string | null;
  login: string | null;
  account: { id: string; username: string; email: string; status: string } | null;
  createdAt: string;
  updatedAt: string;
  messages: Array<{ id: string; author: 'requester' | 'agent'; from: string; agentId: string | null; body: string; via: string; createdAt: string }>;
}

/** The agents' side of tickets: reading, answering (by e-mail) and status changes, each audited. */
export class TicketDesk {
  constructor(private readonly tickets: TicketService) {}

  private get deps() {
    return this.tickets.deps;
  }

  async view(id: string): Promise<AgentTicketView> {
    const ticket = await this.tickets.find(this.deps.db, id);
    if (!ticket) throw new AppError('not_found', { detail: 'No ticket has this id.' });
    const messages = await q.messagesOf(this.deps.db, ticket.id);
    const linked = ticket.account_id ? await this.deps.accounts.get(ticket.account_id).catch(() => undefined) : undefined;
    return {
      id: ticket.id,
      status: ticket.status,
      priority: ticket.priority,
      category: ticket.category,
      subject: ticket.subject,
      name: ticket.name,
      email: ticket.contact_email,
      login: ticket.login,
      account: linked ? { id: linked.id, username: linked.username, email: linked.email, status: linked.status } : null,
      createdAt: ticket.created_at.toISOString(),
      updatedAt: ticket.updated_at.toISOString(),
      messages: messages.map((m) => ({ id: m.id, author: m.author, from: m.sender_name, agentId: m.agent_id, body: m.body, via: m.via, createdAt: m.created_at.toISOString() })),
    };
  }

  /**
   * An agent's answer: e-mailed to the requester with a fresh page link and the ticket's
   * reply address; the ticket waits for the member (pending) unless another status is given.
   */
  async reply(agentId: string, id: string, message: string, status: CaseStatus | undefined, via: Via, meta: RequestMeta): Promise<{ messageId: string; status: CaseStatus }> {
    const { db, clock, outbox } = this.deps;
    const ticket = await this.tickets.find(db, id);
    if (!ticket) throw new AppError('not_found', { detail: 'No ticket has this id.' });
    const body = message.trim();
    if (!body) throw new AppError('invalid_request', { detail: 'Write a message.', extra: { errors: [{ path: '/message', message: 'Write a message.' }] } });
    const senderName = await this.senderName(agentId);
    const next = status ?? 'pending';
    const now = clock.now();
    const messageId = await db.transaction().execute(async (trx) => {
      const updated = await q.setStatusUnlessClosed(trx, ticket.id, next, now);
      if (!updated) throw closed();
      const inserted = await q.insertMessage(trx, { case_id: ticket.id, author: 'agent', agent_id: agentId, sender_name: senderName, body, via, email_message_id: null, created_at: now });
      await recordAudit(trx, now, { event: 'support.ticket_replied', accountId: updated.account_id, actorId: agentId, meta, details: { caseId: ticket.id, messageId: inserted, status: next } });
      if (ticket.contact_email) {
        const key = await this.tickets.issueKey(trx, ticket.id);
        await outbox.enqueue(trx, {
          channel: 'email',
          to: ticket.contact_email,
          template: 'ticket-reply',
          replyTo: this.tickets.replyAddress(ticket.id),
          data: { name: ticket.name, subject: ticket.subject, from: senderName, body, link: this.tickets.pageLink(ticket.id, key), marker: REPLY_MARKER, solved: next === 'solved' || next === 'closed' },
        });
      }
      return inserted;
    });
    outbox.wake();
    return { messageId, status: next };
  }

  /** Open, pending, solved or closed; closed is final (409 ticket_closed). */
  async setStatus(agentId: string, id: string, status: CaseStatus, meta: RequestMeta): Promise<{ id: string; status: CaseStatus }> {
    const { db, clock } = this.deps;
    const ticket = await this.tickets.find(db, id);
    if (!ticket) throw new AppError('not_found', { detail: 'No ticket has this id.' });
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      const updated = await q.setStatusUnlessClosed(trx, ticket.id, status, now);
      if (!updated) throw closed();
      await recordAudit(trx, now, { event: 'support.ticket_status_changed', accountId: updated.account_id, actorId: agentId, meta, details: { caseId: ticket.id, from: ticket.status, to: status } });
    });
    return { id: ticket.id, status };
  }

  /** What the requester sees as the author: the agent's first name with the team, or the team. */
  private async senderName(agentId: string): Promise<string> {
    const agent = await this.deps.accounts.get(agentId).catch(() => undefined);
    const first = agent?.full_name?.trim().split(/\s+/)[0];
    return first ? `${first}, Verity Support` : 'Verity Support';
  }
}
