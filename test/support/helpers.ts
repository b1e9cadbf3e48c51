import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { expect } from 'vitest';
import { auth, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { firstAdmin } from '../admin/admin.js';

let n = 0;
/** A contact-form request with distinct values per call. */
export function newTicket(overrides: Record<string, unknown> = {}) {
  n += 1;
  return {
    email: `asker${n}${Math.random().toString(36).slice(2, 6)}@example.org`,
    name: 'Ana Reyes',
    category: 'account_recovery',
    subject: `I lost access to my e-mail (${n})`,
    message: 'My old work address is gone, and I cannot reset my password.',
    ...overrides,
  };
}

export async function openTicket(t: TestApp, overrides: Record<string, unknown> = {}, ip = randomIp()) {
  const input = newTicket(overrides);
  const res = await t.app.inject({ method: 'POST', url: '/v1/support/tickets', payload: input, remoteAddress: ip });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json() as { ticketId: string; key: string; status: string };
  return { ...body, input };
}

export function ticketUrl(id: string, key: string, tail = ''): string {
  return `/v1/support/tickets/${id}${tail}?key=${encodeURIComponent(key)}`;
}

/** A staff member with the agent role (granted by the first admin), and that admin. */
export async function makeAgent(t: TestApp, overrides: Record<string, unknown> = {}): Promise<{ agent: SignedUp; admin: SignedUp }> {
  const admin = await firstAdmin(t);
  const agent = await signUp(t, overrides);
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(admin.token), payload: { login: agent.username, role: 'agent' } });
  expect(res.statusCode, res.body).toBe(200);
  return { agent, admin };
}

/** A service key, as an admin creates one for the mail provider's inbound webhook. */
export async function serviceKey(t: TestApp, admin: SignedUp): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/service-keys', headers: auth(admin.token), payload: { name: 'inbound mail' } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().key as string;
}

/** The page link (/support/tickets/{id}?key=…) an e-mail carries. */
export function pageLinkIn(body: string): { id: string; key: string; path: string } {
  const match = /\/support\/tickets\/([0-9a-f-]{36})\?key=([A-Za-z0-9_%-]+)/.exec(body);
  if (!match) throw new Error(`no ticket link in: ${body}`);
  const key = decodeURIComponent(match[2]!);
  return { id: match[1]!, key, path: `/support/tickets/${match[1]}?key=${encodeURIComponent(key)}` };
}

/** A real SMTP server on a free loopback port that keeps what it receives. */
export class MailCatcher {
  readonly received: ParsedMail[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, callback) => {
      simpleParser(stream)
        .then((mail) => {
          this.received.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * The newest message to an address (with this subject, when given: messages sent in one
   * outbox run may arrive in any order), after the app's jobs and outbox have run.
   */
  async last(t: TestApp, to: string, subject?: string): Promise<ParsedMail> {
    await t.app.verity.jobs.drain();
    await t.app.verity.outbox.drain();
    const mine = this.received.filter((m) => addresses(m.to).includes(to.toLowerCase()) && (subject === undefined || m.subject === subject));
    const found = mine[mine.length - 1];
    if (!found) throw new Error(`no mail to ${to}; got ${this.received.map((m) => addresses(m.to).join(',')).join(' | ')}`);
    return found;
  }
}

function addresses(field: ParsedMail['to']): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
}

export function replyToOf(mail: ParsedMail): string {
  const value = mail.replyTo?.value[0]?.address;
  if (!value) throw new Error('no Reply-To');
  return value;
}
