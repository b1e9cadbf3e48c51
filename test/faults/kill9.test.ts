import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import { onPostgres } from '../helpers/database.js';
import { FakeTwilio } from '../helpers/fake-twilio.js';
import { exitWithin, startServer, type ServerProcess } from '../helpers/process.js';
import { PASSWORD, Smtp, logLines, member, metric, post, waitFor } from './support.js';

/**
 * kill -9 of the real server in the middle of sign-ups, phone verifications and password
 * resets, then a restart on the same database: no half-written state, and every message the
 * committed transactions queued reaches its transport (a real SMTP server, the local
 * Twilio-speaking server) exactly once. On PGlite runs the server keeps its data folder (the
 * lock of the killed process is stale and taken over); on PostgreSQL runs it gets a fresh
 * database of its own on the suite's server.
 *
 * "In the middle" is made likely rather than timed: many requests are fired at once and the
 * process is killed when a third of them have been answered. The checks hold whatever landed.
 */
const NEW_PASSWORD = 'another correct horse battery';
const dataDir = mkdtempSync(join(tmpdir(), 'verity-kill9-'));
let pgName = '';
let smtp: Smtp;
let twilio: FakeTwilio;
const running: ServerProcess[] = [];

function adminUrl(database?: string): string {
  const u = new URL(process.env.DATABASE_URL!);
  if (database) u.pathname = `/${database}`;
  return u.toString();
}

function start(): Promise<ServerProcess> {
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    // One client address does everything here; the limits are not what this test is about.
    RATE_LIMIT: 'off',
    // A message the killed process had claimed is claimed again after this, not after a minute.
    OUTBOX_CLAIM_SECONDS: '5',
    EMAIL_TRANSPORT: 'smtp',
    SMTP_URL: smtp.url,
    ...twilio.env(),
    ...(onPostgres ? { DATABASE_URL: adminUrl(pgName) } : {}),
  };
  return startServer(env).then((s) => {
    running.push(s);
    return s;
  });
}

beforeAll(async () => {
  smtp = await Smtp.reserve();
  await smtp.up();
  twilio = await FakeTwilio.start();
  if (onPostgres) {
    pgName = `verity_kill9_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pgName}`);
    await admin.end();
  }
});

afterAll(async () => {
  for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await smtp?.down();
  await twilio?.close().catch(() => undefined);
  if (pgName) {
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`);
    await admin.end();
  }
});

interface Prepared {
  username: string;
  email: string;
  token: string;
  phone?: string;
  code?: string;
  resetToken?: string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const signIn = (base: string, login: string, password: string) => post(base, '/v1/sessions', { login, password }).then((r) => r.status);

function mailText(to: string, subject: string): string[] {
  return smtp.to(to).filter((m) => m.subject?.includes(subject)).map((m) => m.text ?? '');
}

describe('kill -9 in the middle of sign-up, phone verification and password reset', () => {
  it('leaves no half-written state, and every queued message goes out exactly once after a restart', async () => {
    const first = await start();
    const base1 = first.base;

    // Ready before the storm: six members with a phone code in hand, six with a reset link.
    const phoneMembers: Prepared[] = [];
    const resetMembers: Prepared[] = [];
    for (let i = 0; i < 12; i++) {
      const body = member(`k9-${i < 6 ? 'phone' : 'reset'}-${i}`);
      const res = await post(base1, '/v1/accounts', body);
      expect(res.status).toBe(201);
      const { session } = (await res.json()) as { session: { token: string } };
      (i < 6 ? phoneMembers : resetMembers).push({ username: body.username, email: body.email, token: session.token });
    }
    for (const [i, m] of phoneMembers.entries()) {
      m.phone = `+639175${String(200000 + i * 7919).padStart(6, '0')}`;
      expect((await post(base1, '/v1/me/phone', { phone: m.phone }, m.token)).status).toBe(202);
    }
    for (const m of resetMembers) expect((await post(base1, '/v1/recovery/password', { login: m.username })).status).toBe(202);

    // Four members with text-message 2SV on, each with a sign-in challenge and its code in hand.
    const twoStepMembers: Array<Prepared & { challenge: string }> = [];
    const textTo = (phone: string) => waitFor(`a text to ${phone}`, () => {
      const texts = twilio.messages.filter((x) => x.form.get('To') === phone);
      return texts.length ? /\b(\d{6})\b/.exec(texts[texts.length - 1]!.form.get('Body') ?? '')![1]! : undefined;
    }, 30_000, 100);
    for (let i = 0; i < 4; i++) {
      const body = member(`k9-2sv-${i}`);
      const res = await post(base1, '/v1/accounts', body);
      const { session } = (await res.json()) as { session: { token: string } };
      const phone = `+639176${String(300000 + i * 7919).padStart(6, '0')}`;
      expect((await post(base1, '/v1/me/phone', { phone }, session.token)).status).toBe(202);
      expect((await post(base1, '/v1/me/phone/verify', { code: await textTo(phone) }, session.token)).status).toBe(200);
      const on = await post(base1, '/v1/me/two-step/sms', {}, session.token);
      expect(on.status, await on.clone().text()).toBe(200);
      const signin = (await (await post(base1, '/v1/sessions', { login: body.username, password: PASSWORD })).json()) as { status: string; challenge: { id: string } };
      expect(signin.status).toBe('two_step_required');
      const before = twilio.messages.length;
      expect((await post(base1, `/v1/challenges/${signin.challenge.id}/send`, { method: 'sms' })).status).toBe(202);
      await waitFor('the sign-in code', () => (twilio.messages.length > before ? true : undefined), 30_000, 100);
      twoStepMembers.push({ username: body.username, email: body.email, token: session.token, phone, code: await textTo(phone), challenge: signin.challenge.id });
    }
    // An administrator (who may do what agents do), and four members who lost their phone:
    // each a security-reset request matched to their account, waiting for a decision. (Not
    // members who sign in here: a sign-in by the owner cancels a reset.)
    const adminBody = member('k9-admin');
    const adminToken = ((await (await post(base1, '/v1/accounts', adminBody)).json()) as { session: { token: string } }).session.token;
    const setupToken = readFileSync(join(dataDir, 'admin-setup-token'), 'utf8').trim();
    expect((await post(base1, '/v1/admin/setup', { token: setupToken }, adminToken)).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      expect((await post(base1, '/v1/accounts', member(`k9-lost-${i}`))).status).toBe(201);
      const res = await post(base1, '/v1/recovery/security-reset', { login: `k9-lost-${i}`, fullName: `Member ${i}`, contactEmail: `k9-contact-${i}@example.com`, details: 'I lost my phone and cannot sign in.' });
      expect(res.status).toBe(202);
    }
    const cases = await waitFor('four matched reset requests', async () => {
      const queue = (await (await fetch(`${base1}/v1/agent/queue?kind=security_reset`, { headers: bearer(adminToken) })).json()) as Array<{ id: string; account?: unknown }>;
      return queue.length === 4 && queue.every((c) => c.account) ? queue.map((c) => c.id) : undefined;
    }, 60_000, 250);

    await waitFor('codes and links delivered', () => (twilio.messages.length === 6 + 8 && resetMembers.every((m) => mailText(m.email, 'Reset your').length === 1) ? true : undefined), 60_000, 200, () => `${twilio.messages.length} texts; mails: ${smtp.received.map((m) => m.subject).join(' | ')}`);
    for (const m of phoneMembers) {
      const text = twilio.messages.find((x) => x.form.get('To') === m.phone)!.form.get('Body') ?? '';
      m.code = /\b(\d{6})\b/.exec(text)![1]!;
    }
    for (const m of resetMembers) m.resetToken = /\/recover\/password\/([^\s/?#]+)/.exec(mailText(m.email, 'Reset your')[0]!)![1]!;
    await waitFor('an empty outbox before the storm', async () => ((await metric(first, 'verity_outbox_backlog')) === 0 ? true : undefined), 30_000, 200);

    // The providers go away for the storm, so no hand-off is half done at the kill: what the
    // kill can break is the database's state, and the messages its transactions queued.
    await smtp.down();
    await twilio.down();
    const mailsBefore = smtp.received.length;
    const textsBefore = twilio.messages.length;

    const newcomers = Array.from({ length: 12 }, (_, i) => member(`k9-new-${i}`));
    const storm: Array<{ kind: string; who: string; answer: Promise<number | 'none'> }> = [];
    const fire = (kind: string, who: string, request: Promise<Response>) =>
      storm.push({ kind, who, answer: request.then((r) => r.status, () => 'none' as const) });
    for (let i = 0; i < 12; i++) {
      fire('signup', newcomers[i]!.username, post(base1, '/v1/accounts', newcomers[i]));
      if (i < 6) {
        fire('phone', phoneMembers[i]!.username, post(base1, '/v1/me/phone/verify', { code: phoneMembers[i]!.code }, phoneMembers[i]!.token));
        fire('reset', resetMembers[i]!.username, post(base1, `/v1/recovery/password/${resetMembers[i]!.resetToken}`, { newPassword: NEW_PASSWORD }));
      }
      if (i < 4) fire('approve', cases[i]!, post(base1, `/v1/agent/security-resets/${cases[i]!}/decision`, { decision: 'approve', note: 'Checked with the member.' }, adminToken));
      if (i < 4) fire('2sv', twoStepMembers[i]!.username, post(base1, `/v1/challenges/${twoStepMembers[i]!.challenge}/verify`, { method: 'sms', code: twoStepMembers[i]!.code }));
    }
    let answered = 0;
    for (const s of storm) void s.answer.then((a) => a !== 'none' && answered++);
    await waitFor('a third of the storm answered', () => (answered >= storm.length / 3 ? true : undefined), 60_000, 5);
    first.child.kill('SIGKILL');
    expect(await exitWithin(first, 10_000)).toEqual({ code: null, signal: 'SIGKILL' });
    const answers = await Promise.all(storm.map(async (s) => ({ ...s, status: await s.answer })));
    // The kill came in the middle: some requests had their answer, some did not.
    expect(answers.some((a) => a.status === 'none'), JSON.stringify(answers)).toBe(true);
    expect(answers.some((a) => a.status !== 'none')).toBe(true);
    const answeredOk = new Set(answers.filter((a) => a.status === 200 || a.status === 201).map((a) => a.who));

    // Restart on the same database, providers back.
    await smtp.up();
    await twilio.up();
    const second = await start();
    const base2 = second.base;

    // Sign-ups: an account exists whole (its verification e-mail works) or not at all (the
    // address is free again). One that was answered 201 exists.
    for (const n of newcomers) {
      const status = await signIn(base2, n.username, PASSWORD);
      expect([200, 401], n.username).toContain(status);
      if (status === 200) {
        const mails = await waitFor(`the verification e-mail of ${n.username}`, () => {
          const found = mailText(n.email, 'Confirm your e-mail');
          return found.length ? found : undefined;
        }, 60_000, 200);
        expect(mails, n.username).toHaveLength(1);
        const token = /verify-email\?token=([^\s&]+)/.exec(mails[0]!)![1]!;
        expect((await post(base2, '/v1/accounts/email-verification', { token: decodeURIComponent(token) })).status, n.username).toBe(200);
      } else {
        expect(answeredOk.has(n.username), `${n.username} was answered 201 but is gone`).toBe(false);
        expect((await post(base2, '/v1/accounts', n)).status, n.username).toBe(201);
      }
    }

    // Phone verifications: verified with its number, or still pending with the same code usable.
    for (const m of phoneMembers) {
      const phone = (await (await fetch(`${base2}/v1/me/phone`, { headers: bearer(m.token) })).json()) as { number: string | null; verified: boolean };
      if (phone.verified) {
        expect(phone.number, m.username).toBe(m.phone);
      } else {
        expect(answeredOk.has(m.username), `${m.username} was answered 200 but is not verified`).toBe(false);
        const again = await post(base2, '/v1/me/phone/verify', { code: m.code }, m.token);
        expect(again.status, `${m.username}: ${await again.clone().text()}`).toBe(200);
      }
    }

    // Password resets: exactly one of the two passwords works. The new one: the link is used
    // and the old session ended. The old one: the link still works, and completes now.
    for (const m of resetMembers) {
      const [withNew, withOld] = [await signIn(base2, m.username, NEW_PASSWORD), await signIn(base2, m.username, PASSWORD)];
      expect([withNew, withOld].sort(), m.username).toEqual([200, 401]);
      if (withNew === 200) {
        expect((await fetch(`${base2}/v1/recovery/password/${m.resetToken}`)).status, m.username).toBe(410);
        expect((await fetch(`${base2}/v1/me`, { headers: bearer(m.token) })).status, m.username).toBe(401);
      } else {
        expect(answeredOk.has(m.username), `${m.username} was answered 200 but the password is the old one`).toBe(false);
        expect((await fetch(`${base2}/v1/me`, { headers: bearer(m.token) })).status, m.username).toBe(200);
        expect((await post(base2, `/v1/recovery/password/${m.resetToken}`, { newPassword: NEW_PASSWORD })).status, m.username).toBe(200);
      }
    }

    // 2SV sign-ins: passed (the challenge is spent: a retry is refused) or not (the same code
    // still passes it now). Rows below: a used code always has its passed challenge and session.
    for (const m of twoStepMembers) {
      const again = await post(base2, `/v1/challenges/${m.challenge}/verify`, { method: 'sms', code: m.code });
      const spent = again.status === 410 && ((await again.json()) as { code: string }).code === 'challenge_expired';
      // Never "code expired" on a pending challenge: a used code without its session.
      if (answeredOk.has(m.username)) expect(spent, m.username).toBe(true);
      else expect(again.status === 200 || spent, m.username).toBe(true);
    }

    // Approvals: decided once. A retry is already_decided, or (it had not committed) approves now.
    for (const id of cases) {
      const again = await post(base2, `/v1/agent/security-resets/${id}/decision`, { decision: 'approve', note: 'Checked with the member.' }, adminToken);
      if (answeredOk.has(id)) expect(again.status, id).toBe(409);
      else expect([200, 409], id).toContain(again.status);
    }

    await waitFor('an empty outbox after the restart', async () => ((await metric(second, 'verity_outbox_backlog')) === 0 ? true : undefined), 90_000, 250);
    await new Promise((r) => setTimeout(r, 1000));
    second.child.kill('SIGTERM');
    expect(await exitWithin(second, 20_000), second.stderr()).toEqual({ code: 0, signal: null });
    expect(logLines(second).filter((l) => Number(l.level) >= 50), second.stdout()).toEqual([]);

    // The rows themselves, read directly.
    const database: Database = onPostgres ? await openDatabase({ databaseUrl: adminUrl(pgName), poolSize: 2 }) : await openDatabase({ dataDir });
    try {
      const { db } = database;
      const accounts = await db.selectFrom('accounts').select(['id', 'username', 'email']).execute();
      expect(accounts).toHaveLength(33);
      for (const a of accounts) {
        const sessions = await db.selectFrom('sessions').select('id').where('account_id', '=', a.id).execute();
        const created = await db.selectFrom('audit_events').select('id').where('account_id', '=', a.id).where('event', '=', 'account.created').execute();
        const verifyMails = await db.selectFrom('outbox').select('id').where('recipient', '=', a.email).where('template', '=', 'verify-email').execute();
        expect([sessions.length > 0, created.length, verifyMails.length], a.username).toEqual([true, 1, 1]);
      }
      // A verified number has its verification finished as verified and its audit row, and back.
      const numbers = await db.selectFrom('phone_numbers').select(['account_id', 'e164']).execute();
      const verified = await db.selectFrom('phone_verifications').select(['account_id', 'e164']).where('status', '=', 'verified').execute();
      expect(numbers.map((n) => `${n.account_id} ${n.e164}`).sort()).toEqual(verified.map((v) => `${v.account_id} ${v.e164}`).sort());
      expect(numbers).toHaveLength(10);
      const phoneAudits = await db.selectFrom('audit_events').select('account_id').where('event', '=', 'phone.verified').execute();
      expect(phoneAudits.map((p) => p.account_id).sort()).toEqual(numbers.map((n) => n.account_id).sort());
      // A used sign-in code belongs to a passed challenge with exactly one session issued for it.
      const usedCodes = await db.selectFrom('challenge_codes').select(['challenge_id', 'used_at']).execute();
      const challenges = await db.selectFrom('challenges').select(['id', 'status']).where('purpose', '=', 'login').execute();
      const signIns = await db.selectFrom('audit_events').select('details').where('event', '=', 'signin.succeeded').execute();
      const sessionsFor = (id: string) => signIns.filter((a) => JSON.stringify(a.details).includes(id)).length;
      expect(challenges).toHaveLength(4);
      for (const c of challenges) {
        const used = usedCodes.some((u) => u.challenge_id === c.id && u.used_at !== null);
        expect([used, c.status, sessionsFor(c.id)], c.id).toEqual(used ? [true, 'passed', 1] : [false, 'pending', 0]);
      }
      // Each approval: approved once, with its audit row, and the owner told by e-mail.
      const resets = await db.selectFrom('security_resets').select(['case_id', 'status']).execute();
      expect(resets.map((r) => r.status)).toEqual(['approved', 'approved', 'approved', 'approved']);
      const decided = await db.selectFrom('audit_events').select('details').where('event', '=', 'security_reset.decided').execute();
      for (const r of resets) expect(decided.filter((d) => JSON.stringify(d.details).includes(r.case_id)), r.case_id).toHaveLength(1);
      const scheduled = await db.selectFrom('outbox').select('channel').where('template', '=', 'security-reset-scheduled').execute();
      expect(scheduled.map((o) => o.channel)).toEqual(['email', 'email', 'email', 'email']);
      // Each reset changed one password once, with its notice.
      const changed = await db.selectFrom('audit_events').select('account_id').where('event', '=', 'password.changed').execute();
      expect(changed).toHaveLength(6);
      expect(await db.selectFrom('outbox').select('id').where('template', '=', 'password-changed').execute()).toHaveLength(6);

      // Every message queued went out, once: the outbox's rows against what the transports got.
      const outbox = await db.selectFrom('outbox').select(['id', 'channel', 'status']).execute();
      expect(outbox.filter((o) => o.status !== 'sent')).toEqual([]);
      const emailIds = outbox.filter((o) => o.channel === 'email').map((o) => o.id).sort();
      expect([...smtp.copiesById().keys()].sort()).toEqual(emailIds);
      expect([...smtp.copiesById().values()].every((n) => n === 1)).toBe(true);
      expect(twilio.messages.length + twilio.calls.length).toBe(outbox.filter((o) => o.channel !== 'email').length);
      // And the storm's messages went out after the restart only.
      expect(smtp.received.length).toBeGreaterThan(mailsBefore);
      expect(twilio.messages.length).toBe(textsBefore);
    } finally {
      await database.close();
    }
  }, 400_000);
});
