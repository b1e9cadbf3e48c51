import type { Kysely } from 'kysely';
import type { AccountService } from '../accounts/service.js';
import { isUuid } from '../accounts/queries.js';
import type { RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import { constantTimeEqual, hmac, randomToken, type Random } from '../platform/crypto.js';
import type { Db } from '../platform/db/database.js';
import type { DB, TicketCategory } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { JobContext, Jobs } from '../platform/jobs.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { Secrets } from '../platform/secrets.js';
import type { SupportService } from './service.js';
import { REPLY_MARKER, replyAddressFor, stripQuoted, ticketFromRecipients } from './ticket-mail.js';
import * as q from './ticket-queries.js';

export interface TicketDeps {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  jobs: Jobs;
  accounts: Pick<AccountService, 'findLiveByLogin' | 'get'>;
  support: SupportService;
  publicUrl: string;
  /** SUPPORT_REPLY_ADDRESS: each ticket's replies go to its tagged form. */
  replyAddress: string;
}

export interface NewTicket {
  email: string;
  name: string;
  category: TicketCategory;
  subject: string;
  message: string;
  login?: string | undefined;
}

export type Via = 'web' | 'api' | 'email';

/** A message as the requester sees it: who wrote it by name only, never a staff id. */
export interface MemberMessage {
  author: 'requester' | 'agent';
  from: string;
  body: string;
  createdAt: string;
}

export const LINK_ACCOUNT_JOB = 'support.ticket_link_account';

/** Contact support without signing in: a ticket, its secret link, and the conversation. */
export class TicketService {
  constructor(readonly deps: TicketDeps) {
    deps.jobs.register(LINK_ACCOUNT_JOB, (payload, job) => this.linkAccount(String(payload.caseId), String(payload.login ?? ''), job));
  }

  /**
   * Opens a ticket. Nothing here looks the login up: the answer, the e-mail and the page are
   * the same for any login, and a job links the account (for agents only) after the answer.
   */
  async open(input: NewTicket, via: Via, meta: RequestMeta): Promise<{ ticketId: string; key: string; status: 'open' }> {
    const { db, limiter, support, clock, jobs, outbox } = this.deps;
    const email = input.email.trim();
    const login = input.login?.trim().normalize('NFC') || null;
    // Name and subject travel in e-mail headers and titles: one line each.
    const name = oneLine(input.name);
    const subject = oneLine(input.subject);
    if (meta.ip) await limiter.consume('support_ticket_ip', meta.ip);
    await limiter.consume('support_ticket_email', email.toLowerCase());
    const now = clock.now();
    const { ticketId, key } = await db.transaction().execute(async (trx) => {
      const { id } = await support.open(trx, {
        kind: 'ticket',
        priority: input.category === 'compromised' ? 'high' : 'normal',
        accountId: null,
        login,
        contactEmail: email,
        details: subject,
        source: via === 'web' ? 'contact_form' : 'api',
      });
      await trx.insertInto('support_tickets').values({ case_id: id, name, category: input.category, subject }).execute();
      // One key for the answer, another for the e-mail: neither is kept, only their HMACs.
      const key = await this.issueKey(trx, id);
      const mailed = await this.issueKey(trx, id);
      await q.insertMessage(trx, { case_id: id, author: 'requester', agent_id: null, sender_name: name, body: input.message.trim(), via, email_message_id: null, created_at: now });
      // By the e-mail when no login was given: an agent then still sees whose account it may be.
      await jobs.enqueue(trx, LINK_ACCOUNT_JOB, { caseId: id, login: login ?? email });
      await outbox.enqueue(trx, {
        channel: 'email',
        to: email,
        template: 'ticket-received',
        replyTo: this.replyAddress(id),
        data: { name, subject, link: this.pageLink(id, mailed), marker: REPLY_MARKER },
      });
      return { ticketId: id, key };
    });
    jobs.wake();
    outbox.wake();
    return { ticketId, key, status: 'open' };
  }

  /** The requester's view: 404 alike for an unknown id and a wrong key. */
  async view(id: string, key: string) {
    const ticket = await this.authenticate(id, key);
    const messages = await q.messagesOf(this.deps.db, ticket.id);
    return {
      id: ticket.id,
      status: ticket.status,
      subject: ticket.subject,
      category: ticket.category,
      createdAt: ticket.created_at.toISOString(),
      messages: messages.map((m): MemberMessage => ({ author: m.author, from: m.sender_name, body: m.body, createdAt: m.created_at.toISOString() })),
    };
  }

  /** The requester answers on the page or the API: a solved ticket opens again; a closed one refuses (409). */
  async reply(id: string, key: string, message: string, via: Via): Promise<{ messageId: string; status: 'open' }> {
    const ticket = await this.authenticate(id, key);
    return this.addRequesterMessage(ticket, message.trim(), via, null);
  }

  /**
   * A reply by e-mail, as a mail provider hands it over: the ticket is the one whose tagged
   * address (with a valid token) is among the recipients; only the new text is kept.
   */
  async receiveEmail(input: { recipient: string; text: string; messageId?: string | undefined }): Promise<{ ticketId: string; messageId: string; duplicate: boolean }> {
    const caseId = ticketFromRecipients(this.deps.secrets.tokenKey, this.deps.replyAddress, input.recipient);
    const ticket = caseId ? await q.findTicket(this.deps.db, caseId) : undefined;
    if (!ticket) throw new AppError('not_found', { detail: 'No ticket has this reply address.' });
    const body = stripQuoted(input.text).slice(0, 10_000);
    if (!body) throw new AppError('invalid_request', { detail: 'The e-mail has no new text above the quoted history.', extra: { errors: [{ path: '/text', message: 'has no new text' }] } });
    const emailId = input.messageId?.trim().slice(0, 500) || null;
    const added = await this.addRequesterMessage(ticket, body, 'email', emailId);
    return { ticketId: ticket.id, messageId: added.messageId, duplicate: added.duplicate ?? false };
  }

  private async addRequesterMessage(ticket: q.TicketRow, body: string, via: Via, emailId: string | null): Promise<{ messageId: string; status: 'open'; duplicate?: boolean }> {
    const { db, clock, limiter } = this.deps;
    if (ticket.status === 'closed') throw closed();
    await limiter.consume('support_ticket_reply', ticket.id);
    const now = clock.now();
    const row = { case_id: ticket.id, author: 'requester' as const, agent_id: null, sender_name: ticket.name, body, via, email_message_id: emailId, created_at: now };
    return db.transaction().execute(async (trx) => {
      const messageId = emailId ? await q.insertEmailedMessage(trx, row) : await q.insertMessage(trx, row);
      if (!messageId) {
        const earlier = await trx.selectFrom('ticket_messages').select('id').where('case_id', '=', ticket.id).where('email_message_id', '=', emailId).executeTakeFirstOrThrow();
        return { messageId: earlier.id, status: 'open' as const, duplicate: true };
      }
      // Decided by the update itself: a ticket closed a moment ago takes no reply.
      if (!(await q.setStatusUnlessClosed(trx, ticket.id, 'open', now))) throw closed();
      return { messageId, status: 'open' as const };
    });
  }

  /** The account a ticket is about, for agents: looked up after the answer, by the job. */
  private async linkAccount(caseId: string, login: string, job: JobContext): Promise<void> {
    const account = login ? await this.deps.accounts.findLiveByLogin(login) : undefined;
    if (!account) return;
    await this.deps.db.transaction().execute(async (trx) => {
      await job.complete(trx);
      await q.linkAccount(trx, caseId, account.id);
    });
  }

  private async authenticate(id: string, key: string): Promise<q.TicketRow> {
    const ticket = isUuid(id) ? await q.findTicket(this.deps.db, id.toLowerCase()) : undefined;
    const hashes = ticket ? await q.keyHashesOf(this.deps.db, ticket.id) : [];
    const given = this.keyHash(ticket?.id ?? id, key.slice(0, 200));
    // Every key of the ticket is compared, each in constant time.
    let match = false;
    for (const hash of hashes) match = constantTimeEqual(Buffer.from(hash, 'hex'), given) || match;
    if (!ticket || !match) throw new AppError('not_found', { detail: 'There is no ticket at this address. Check that you opened the whole link from our e-mail.' });
    return ticket;
  }

  private keyHash(caseId: string, key: string): Buffer {
    return hmac(this.deps.secrets.tokenKey, 'support_ticket_key', caseId.toLowerCase(), key);
  }

  /** A new random key to the ticket's page; only its HMAC is stored. */
  async issueKey(trx: Kysely<DB>, caseId: string): Promise<string> {
    const key = randomToken(this.deps.random);
    await q.addKey(trx, caseId, this.keyHash(caseId, key).toString('hex'), this.deps.clock.now());
    return key;
  }

  replyAddress(caseId: string): string {
    return replyAddressFor(this.deps.secrets.tokenKey, this.deps.replyAddress, caseId);
  }

  pageLink(caseId: string, key: string): string {
    return `${this.deps.publicUrl}/support/tickets/${caseId}?key=${encodeURIComponent(key)}`;
  }

  /** For the agents' side (ticket-desk.ts), which shares this ticket store. */
  find(trx: Kysely<DB>, caseId: string): Promise<q.TicketRow | undefined> {
    return isUuid(caseId) ? q.findTicket(trx, caseId.toLowerCase()) : Promise.resolve(undefined);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function closed(): AppError {
  return new AppError('ticket_closed');
}
