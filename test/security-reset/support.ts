import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { expect } from 'vitest';
import { SmtpTransport } from '../../src/platform/messaging/transports/smtp.js';
import type { Database } from '../../src/platform/db/database.js';
import { auth, createTestApp, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { firstAdmin } from '../admin/admin.js';

/** A real SMTP server on a loopback port that keeps every message it is given. */
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

  /** Every message to an address, oldest first. */
  to(address: string): ParsedMail[] {
    return this.received.filter((m) => addressesOf(m).includes(address.toLowerCase()));
  }

  last(address: string): ParsedMail {
    const list = this.to(address);
    expect(list.length, `no mail to ${address}`).toBeGreaterThan(0);
    return list[list.length - 1]!;
  }
}

function addressesOf(mail: ParsedMail): string[] {
  const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
  return to.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
}

/** The app with every e-mail sent over SMTP to `mail` (texts stay in the development outbox). */
export function resetApp(mail: MailCatcher, options: { database?: Database; env?: Record<string, string> } = {}): Promise<TestApp> {
  return createTestApp({
    ...options,
    transports: () => ({ email: new SmtpTransport(`smtp://127.0.0.1:${mail.port}`, 'Verity <no-reply@verity.test>', 'verity.test', { ignoreTLS: true }) }),
  });
}

/** Runs due jobs, then hands every queued message over. */
export async function settle(t: TestApp): Promise<void> {
  await t.app.verity.jobs.drain();
  await t.app.verity.outbox.drain();
}

/** An admin (the first one) and an agent that admin appointed. */
export async function staff(t: TestApp): Promise<{ admin: SignedUp; agent: SignedUp }> {
  const admin = await firstAdmin(t);
  const agent = await signUp(t);
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(admin.token), payload: { login: agent.username, role: 'agent' } });
  expect(res.statusCode, res.body).toBe(200);
  return { admin, agent };
}

let n = 0;
export function resetBody(login: string, overrides: Record<string, unknown> = {}) {
  n += 1;
  return { login, fullName: 'Maria Santos', contactEmail: `requester${n}${Math.random().toString(36).slice(2, 6)}@contact.test`, details: 'I lost my phone on the bus and cannot sign in.', ...overrides };
}

export function requestReset(t: TestApp, body: Record<string, unknown>, ip = randomIp()) {
  return t.app.inject({ method: 'POST', url: '/v1/recovery/security-reset', payload: body, remoteAddress: ip });
}

/** The status link's id and key from the newest e-mail to the requester. */
export function statusLinkIn(mail: ParsedMail): { requestId: string; key: string; path: string } {
  const match = /\/recover\/security-reset\/([0-9a-f-]{36})\?key=([A-Za-z0-9_-]+)/.exec(mail.text ?? '');
  if (!match) throw new Error(`no status link in: ${mail.text}`);
  return { requestId: match[1]!, key: match[2]!, path: `/recover/security-reset/${match[1]}?key=${match[2]}` };
}

export function linkIn(mail: ParsedMail, path: string): string {
  const match = new RegExp(`${path.replace(/[/?]/g, '\\$&')}/([A-Za-z0-9_%-]+)`).exec(mail.text ?? '');
  if (!match) throw new Error(`no ${path} link in: ${mail.text}`);
  return decodeURIComponent(match[1]!);
}

export function status(t: TestApp, link: { requestId: string; key: string }) {
  return t.app.inject({ method: 'GET', url: `/v1/recovery/security-reset/${link.requestId}?key=${encodeURIComponent(link.key)}` });
}

export function decide(t: TestApp, agent: SignedUp, id: string, decision: string, note = 'Checked against the account.') {
  return t.app.inject({ method: 'POST', url: `/v1/agent/security-resets/${id}/decision`, headers: auth(agent.token), payload: { decision, note } });
}

export function caseOf(t: TestApp, agent: SignedUp, id: string) {
  return t.app.inject({ method: 'GET', url: `/v1/agent/security-resets/${id}`, headers: auth(agent.token) });
}

export const HOUR = 3600;
