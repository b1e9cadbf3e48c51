import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingMessage, Transport } from '../../src/platform/messaging/transport.js';
import { auth, createTestApp, randomIp, stepUp, uniqueUser, type SignedUp, type TestApp } from '../helpers/app.js';
import { phMobile } from '../phone/helpers.js';
import { appCode } from '../twostep/helpers.js';

/**
 * Issue 16, item 7: after a full member journey, neither the logs (captured at trace level)
 * nor any column of any table holds a password, code, token, key or answer that the journey
 * used, in plain form. Hashes and sealed bodies are fine; the plain value is what must not be
 * there.
 *
 * Messages go to an in-memory transport (the member's inbox and phone) rather than the
 * development outbox, whose `dev_messages` table is that inbox and would hold them by design:
 * so every table is checked, with no exception. The outbox table itself keeps its bodies
 * sealed until the hand-off and erased after, and the sealed bytes are part of the dump.
 */
class Inbox implements Transport {
  readonly name = 'inbox';
  readonly messages: OutgoingMessage[] = [];
  send(message: OutgoingMessage): Promise<{ providerId?: string }> {
    this.messages.push(message);
    return Promise.resolve({ providerId: message.id });
  }
}

let t: TestApp;
const inbox = new Inbox();
let logs = '';
beforeAll(async () => {
  const capture = new Writable({ write: (chunk, _encoding, done) => ((logs += chunk.toString()), done()) });
  t = await createTestApp({ logger: pino({ level: 'trace' }, capture), transports: () => ({ email: inbox, sms: inbox, voice: inbox }) });
});
afterAll(async () => {
  await t.close();
});

/** Dumps taken while messages were still queued, sealed, in the outbox. */
const queuedDumps: string[] = [];

/**
 * The newest message to `to` whose text matches `about`, once the outbox has handed everything
 * over (one run may deliver in any order: a new-browser notice can arrive after a reset link).
 */
async function newest(to: string, about: RegExp): Promise<OutgoingMessage> {
  await t.app.verity.jobs.drain();
  queuedDumps.push(await dumpTables());
  await t.app.verity.outbox.drain();
  const message = inbox.messages.filter((m) => m.to.toLowerCase() === to.toLowerCase() && about.test(m.text)).at(-1);
  if (!message) throw new Error(`nothing sent to ${to}`);
  return message;
}

/** The first group of `pattern` in the newest message to `to` that has it. */
async function tokenIn(to: string, pattern: RegExp): Promise<string> {
  return grab((await newest(to, pattern)).text, pattern);
}

function grab(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`${pattern} not found in: ${text}`);
  return decodeURIComponent(match[1]);
}

/** Every column of every table of the public schema, as text; binary columns in hex and as bytes. */
async function dumpTables(): Promise<string> {
  const tables = await sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(t.db);
  expect(tables.rows.length).toBeGreaterThan(20);
  const parts: string[] = [];
  for (const { table_name: table } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)}`.execute(t.db);
    for (const row of rows.rows) {
      for (const [column, value] of Object.entries(row)) {
        const text =
          value instanceof Uint8Array
            ? `${Buffer.from(value).toString('hex')} ${Buffer.from(value).toString('latin1')}`
            : value instanceof Date
              ? value.toISOString()
              : typeof value === 'object' && value !== null
                ? JSON.stringify(value)
                : String(value);
        parts.push(`${table}.${column}=${text}`);
      }
    }
  }
  return parts.join('\n');
}

/**
 * Where a secret occurs in `haystack`. A short all-digit code counts only where it stands
 * alone (not inside a longer run of letters, digits or a decimal fraction), so that a
 * timestamp or a hash that happens to contain the same six digits is not taken for it.
 */
function occurs(haystack: string, secret: string): boolean {
  if (/^\d{6,8}$/.test(secret)) return new RegExp(`(?<![0-9A-Za-z.])${secret}(?![0-9A-Za-z])`).test(haystack);
  return haystack.includes(secret);
}

describe('secrets are never at rest in the logs or the database', () => {
  it('a full journey leaves no password, code, token, key or answer in plain form', async () => {
    const secrets = new Map<string, string>();
    const keep = (what: string, value: string) => {
      expect(value.length, what).toBeGreaterThanOrEqual(6);
      secrets.set(`${what} #${secrets.size}`, value);
      return value;
    };
    const ip = randomIp();
    const inject = (method: 'GET' | 'POST' | 'PUT', url: string, token?: string, payload?: object) =>
      t.app.inject({ method, url, remoteAddress: ip, ...(token ? { headers: auth(token) } : {}), ...(payload ? { payload } : {}) });

    // Sign-up with a password; the session token and the device cookie it answers with.
    const user = { ...uniqueUser(), password: keep('password', 'Quiet orchard 7 lantern ribbons') };
    const signedUp = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: user, remoteAddress: ip });
    expect(signedUp.statusCode, signedUp.body).toBe(201);
    const member: SignedUp = { id: signedUp.json().account.id, token: keep('session token', signedUp.json().session.token), email: user.email, username: user.username, password: user.password };
    for (const cookie of signedUp.cookies) keep(`cookie ${cookie.name}`, cookie.value);

    // E-mail verification token.
    const verification = keep('e-mail verification token', await tokenIn(member.email, /verify-email\?token=([A-Za-z0-9_%-]+)/));
    expect((await inject('POST', '/v1/accounts/email-verification', undefined, { token: verification })).statusCode).toBe(200);

    // Phone code.
    const phone = phMobile();
    expect((await inject('POST', '/v1/me/phone', member.token, { phone })).statusCode).toBe(202);
    const phoneCode = keep('phone code', await tokenIn(phone, /\b(\d{6})\b/));
    expect((await inject('POST', '/v1/me/phone/verify', member.token, { code: phoneCode })).statusCode).toBe(200);

    // TOTP secret and codes (the first method needs no step-up).
    const setup = await inject('POST', '/v1/me/two-step/totp', member.token);
    expect(setup.statusCode, setup.body).toBe(200);
    const totpSecret = keep('TOTP secret', setup.json().secret);
    const totp = () => keep('TOTP code', appCode(t, totpSecret));
    expect((await inject('POST', '/v1/me/two-step/totp/confirm', member.token, { setupId: setup.json().setupId, code: totp() })).statusCode).toBe(200);

    // Step-up with the app, then backup codes and a security answer.
    t.clock.advanceSeconds(30);
    await stepUp(t, member, async (challenge) => {
      const passed = await inject('POST', `/v1/challenges/${challenge.id}/verify`, member.token, { method: 'totp', code: totp() });
      expect(passed.statusCode, passed.body).toBe(200);
    });
    const backup = await inject('POST', '/v1/me/two-step/backup-codes', member.token);
    expect(backup.statusCode, backup.body).toBe(200);
    const backupCodes = (backup.json().codes as string[]).map((code) => keep('backup code', code));
    for (const code of backupCodes) keep('backup code without its dash', code.replace('-', ''));
    const answer = keep('security answer', 'Calle Esperanza Verde');
    keep('security answer, normalised', 'calle esperanza verde');
    expect((await inject('PUT', '/v1/me/two-step/security-question', member.token, { question: 'first_street', answer })).statusCode).toBe(200);

    // Sign-in twice: the second step by a backup code, then by the answer.
    for (const second of [{ method: 'backup_code', code: backupCodes[0] }, { method: 'security_question', answer }]) {
      const signIn = await inject('POST', '/v1/sessions', undefined, { login: member.username, password: member.password });
      expect(signIn.json().status, signIn.body).toBe('two_step_required');
      const passed = await inject('POST', `/v1/challenges/${signIn.json().challenge.id}/verify`, undefined, second);
      expect(passed.statusCode, passed.body).toBe(200);
      keep('session token', passed.json().session.token);
      for (const cookie of passed.cookies) keep(`cookie ${cookie.name}`, cookie.value);
    }

    // Password reset: the link's token, the recovery challenge passed with the app, a new password.
    expect((await inject('POST', '/v1/recovery/password', undefined, { login: member.email })).statusCode).toBe(202);
    const resetToken = keep('password reset token', await tokenIn(member.email, /\/recover\/password\/([A-Za-z0-9_%-]+)/));
    const look = await inject('GET', `/v1/recovery/password/${resetToken}`);
    t.clock.advanceSeconds(30);
    expect((await inject('POST', `/v1/challenges/${look.json().challenge.id}/verify`, undefined, { method: 'totp', code: totp() })).statusCode).toBe(200);
    const newPassword = keep('new password', 'Seven amber kites over Lisbon');
    expect((await inject('POST', `/v1/recovery/password/${resetToken}`, undefined, { newPassword })).statusCode).toBe(200);
    const signIn = await inject('POST', '/v1/sessions', undefined, { login: member.username, password: newPassword });
    t.clock.advanceSeconds(30);
    const passed = await inject('POST', `/v1/challenges/${signIn.json().challenge.id}/verify`, undefined, { method: 'totp', code: totp() });
    expect(passed.statusCode, passed.body).toBe(200);
    const session = keep('session token', passed.json().session.token);

    // A support ticket and its key; a reply through the key.
    const ticket = await inject('POST', '/v1/support/tickets', undefined, { email: 'asker@example.org', name: 'Ana Reyes', category: 'login', subject: 'Cannot sign in', message: 'Please help me sign in again.', login: member.username });
    expect(ticket.statusCode, ticket.body).toBe(201);
    const ticketKey = keep('support ticket key', ticket.json().key);
    expect((await inject('POST', `/v1/support/tickets/${ticket.json().ticketId}/messages?key=${encodeURIComponent(ticketKey)}`, undefined, { message: 'One more detail.' })).statusCode).toBe(201);
    expect((await inject('GET', `/v1/support/tickets/${ticket.json().ticketId}?key=${encodeURIComponent(ticketKey)}`)).statusCode).toBe(200);
    keep('support ticket key (e-mailed)', await tokenIn('asker@example.org', /\/support\/tickets\/[0-9a-f-]{36}\?key=([A-Za-z0-9_%-]+)/));

    // The admin setup token, a service key, and the gate asked with it.
    const setupToken = keep('admin setup token', (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!);
    const admin = await signUp2();
    expect((await inject('POST', '/v1/admin/setup', admin, { token: setupToken })).statusCode).toBe(200);
    const created = await inject('POST', '/v1/admin/service-keys', admin, { name: 'payments' });
    expect(created.statusCode, created.body).toBe(201);
    const serviceKey = keep('service key', created.json().key);
    expect((await inject('POST', '/v1/gate/check', serviceKey, { accountId: member.id, action: 'post_job' })).statusCode).toBe(200);

    // "This wasn't me" on the newest notice: the account locks and every session ends.
    const notMe = keep('not-me token', await tokenIn(member.email, /\/recover\/not-me\/([A-Za-z0-9_%-]+)/));
    expect((await inject('POST', `/v1/recovery/not-me/${notMe}`)).statusCode).toBe(200);
    expect((await inject('GET', '/v1/me', session)).statusCode).toBe(401);

    // Every link token in every message the journey sent counts too.
    await t.app.verity.jobs.drain();
    await t.app.verity.outbox.drain();
    for (const message of inbox.messages) {
      for (const [, token] of message.text.matchAll(/(?:token=|\/not-me\/|\/password\/|key=)([A-Za-z0-9_%-]{20,})/g)) keep(`link token to ${message.to}`, decodeURIComponent(token!));
    }

    // The matcher finds what is there: each e-mailed or texted secret is in what was sent.
    const sent = inbox.messages.map((m) => `${m.subject ?? ''}\n${m.text}\n${m.html ?? ''}`).join('\n');
    for (const value of [verification, phoneCode, resetToken, notMe]) expect(occurs(sent, value), value).toBe(true);

    // Messages were caught queued, sealed; those sealed bytes are in the dumps checked below.
    expect(queuedDumps.some((d) => /^outbox\.sealed_body=(?!null)\S/m.test(d))).toBe(true);
    const dump = [await dumpTables(), ...queuedDumps].join('\n');
    // The dump holds the journey (so a miss is no empty dump): the account and its hashes.
    expect(dump).toContain(member.username);
    expect(dump).toMatch(/\$argon2id\$/);
    expect(logs.split('\n').length).toBeGreaterThan(50);
    const leaks = [...secrets].flatMap(([what, value]) => [...(occurs(logs, value) ? [`logs: ${what}`] : []), ...(occurs(dump, value) ? [`database: ${what}`] : [])]);
    expect(leaks).toEqual([]);

    async function signUp2(): Promise<string> {
      const who = { ...uniqueUser('admin'), password: keep('admin password', 'Granite moth 4 quietly hums') };
      const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: who, remoteAddress: ip });
      expect(res.statusCode, res.body).toBe(201);
      return keep('admin session token', res.json().session.token);
    }
  });
});
