import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SETUP_TOKEN_FILE } from '../../src/admin/service.js';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import { TEST_SECRET, uniqueUser } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';
import { FakeTwilio } from '../helpers/fake-twilio.js';
import { startServer, type ServerProcess } from '../helpers/process.js';
import { phMobile } from '../phone/helpers.js';
import { MailCatcher } from '../security-reset/support.js';

/**
 * Two real server processes on ONE PostgreSQL database and one Redis behave as one service
 * (issue 16, item 5). PostgreSQL only: PGlite is one process's embedded database.
 * Each process has its own DATA_DIR, as on two machines; they share SECRET_KEY.
 */
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisPrefix = `verity-test-${randomBytes(6).toString('hex')}:`;

let dbUrl = '';
let dbName = '';
let database: Database;
let mail: MailCatcher;
let twilio: FakeTwilio;
let a: ServerProcess;
let b: ServerProcess;
const dirs: string[] = [];

/** A fresh database copied from the run's template, by URL (the processes connect to it themselves). */
async function createDatabase(): Promise<void> {
  const url = process.env.DATABASE_URL!;
  dbName = `verity_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${dbName} TEMPLATE ${inject('pgTemplate')}`);
      break;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${dbName}`;
  dbUrl = u.toString();
  database = await openDatabase({ databaseUrl: dbUrl, poolSize: 2 });
}

function serverEnv(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'verity-multi-'));
  dirs.push(dir);
  return {
    DATA_DIR: dir,
    DATABASE_URL: dbUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    SECRET_KEY: TEST_SECRET,
    PUBLIC_URL: 'http://localhost:3000',
    EMAIL_TRANSPORT: 'smtp',
    SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
    // Each request names its client in X-Forwarded-For, so per-IP limits bite only where a test wants them.
    TRUST_PROXY: 'loopback',
    LOG_LEVEL: 'warn',
    ...twilio.env(),
  };
}

describe.skipIf(!onPostgres)('two processes on one database and one Redis', () => {
  beforeAll(async () => {
    mail = new MailCatcher();
    await mail.start();
    twilio = await FakeTwilio.start();
    await createDatabase();
    // Both start at once, on a database with no admin: both prepare the setup token.
    [a, b] = await Promise.all([startServer(serverEnv()), startServer(serverEnv())]);
  }, 180_000);

  afterAll(async () => {
    for (const server of [a, b]) if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    await Promise.all([a, b].filter(Boolean).map((s) => s.exited));
    await database?.close();
    if (dbName) {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await client.end();
    }
    await mail?.close();
    await twilio?.down();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    // Only this file's keys: the Redis is shared.
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  // The answers' shapes are the API's; the tests read the few fields they check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Answer = any;

  let n = 0;
  /** A client address of its own (10.x), or the one given. */
  const ip = () => `10.77.${Math.floor(++n / 250) % 250}.${(n % 250) + 1}`;

  async function call(server: ServerProcess, method: string, path: string, options: { token?: string; body?: unknown; from?: string } = {}) {
    const res = await fetch(server.base + path, {
      method,
      headers: {
        'x-forwarded-for': options.from ?? ip(),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
    const text = await res.text();
    let json: Answer = null;
    try {
      if (text) json = JSON.parse(text) as Answer;
    } catch {
      // Not JSON: the test reads `text`.
    }
    return { status: res.status, json, text };
  }

  interface Member {
    id: string;
    token: string;
    username: string;
    email: string;
    password: string;
  }

  async function signUp(server: ServerProcess): Promise<Member> {
    const user = uniqueUser('multi');
    const res = await call(server, 'POST', '/v1/accounts', { body: user });
    expect(res.status, res.text).toBe(201);
    return { id: res.json.account.id, token: res.json.session.token, username: user.username, email: user.email, password: user.password };
  }

  async function signIn(server: ServerProcess, who: Member, from = ip()): Promise<string> {
    const res = await call(server, 'POST', '/v1/sessions', { body: { login: who.username, password: who.password }, from });
    expect(res.status, res.text).toBe(200);
    expect(res.json.status).toBe('authenticated');
    return res.json.session.token as string;
  }

  /** Polls `server` every 50 ms until the session is refused; resolves with the ms it took. */
  async function refusedWithin(server: ServerProcess, token: string, limitMs = 1000): Promise<number> {
    const started = Date.now();
    for (;;) {
      const res = await call(server, 'GET', '/v1/me', { token });
      const took = Date.now() - started;
      if (res.status === 401) return took;
      expect(res.status).toBe(200);
      if (took > limitMs + 2000) return took;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  let admin: Member;

  it('the admin setup: both processes announce the one token that works, and it works once', async () => {
    const files = [a, b].map((_, i) => join(dirs[i]!, SETUP_TOKEN_FILE));
    const tokens = files.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8').trim());
    // Whatever a process wrote into its DATA_DIR is the live token: no process announces a dead one.
    expect(tokens.length).toBeGreaterThan(0);
    expect(new Set(tokens).size).toBe(1);
    const token = tokens[0]!;

    admin = await signUp(a);
    const other = await signUp(b);
    const [first, second] = await Promise.all([
      call(b, 'POST', '/v1/admin/setup', { token: admin.token, body: { token } }),
      call(a, 'POST', '/v1/admin/setup', { token: other.token, body: { token } }),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 410]);
    if (first.status !== 200) admin = other;
    const admins = await database.db.selectFrom('staff_roles').select('account_id').where('role', '=', 'admin').execute();
    expect(admins.map((r) => r.account_id)).toEqual([admin.id]);
    expect((await call(a, 'GET', '/v1/me', { token: admin.token })).json.staffRoles).toEqual(['admin']);
  });

  describe('sessions', () => {
    it('a session made on A works on B', async () => {
      const who = await signUp(a);
      const res = await call(b, 'GET', '/v1/me', { token: who.token });
      expect(res.status).toBe(200);
      expect(res.json.id).toBe(who.id);
    });

    it('revoked on A (by id, sign-out, all others, password change): refused on B within 1 s', async () => {
      const who = await signUp(a);
      const from = ip();
      const keep = await signIn(a, who, from);
      // By id.
      const byId = await signIn(a, who, from);
      expect((await call(b, 'GET', '/v1/me', { token: byId })).status).toBe(200);
      const list = await call(a, 'GET', '/v1/sessions', { token: byId });
      const id = (list.json as Array<{ id: string; current: boolean }>).find((s) => s.current)!.id;
      expect((await call(a, 'DELETE', `/v1/sessions/${id}`, { token: keep })).status).toBe(204);
      expect(await refusedWithin(b, byId)).toBeLessThan(1000);
      // Sign-out.
      const signedOut = await signIn(a, who, from);
      expect((await call(b, 'GET', '/v1/me', { token: signedOut })).status).toBe(200);
      expect((await call(a, 'DELETE', '/v1/sessions/current', { token: signedOut })).status).toBe(204);
      expect(await refusedWithin(b, signedOut)).toBeLessThan(1000);
      // Every other session.
      const other = await signIn(a, who, from);
      expect((await call(b, 'GET', '/v1/me', { token: other })).status).toBe(200);
      expect((await call(a, 'DELETE', '/v1/sessions', { token: keep })).status).toBe(204);
      expect(await refusedWithin(b, other)).toBeLessThan(1000);
      // A password change ends the other sessions.
      const last = await signIn(a, who, from);
      expect((await call(b, 'GET', '/v1/me', { token: last })).status).toBe(200);
      const changed = await call(a, 'POST', '/v1/me/password', { token: keep, body: { password: who.password, newPassword: 'a brand new passphrase for two processes' } });
      expect(changed.status, changed.text).toBe(200);
      expect(await refusedWithin(b, last)).toBeLessThan(1000);
      // The session that made the change goes on, on both.
      expect((await call(b, 'GET', '/v1/me', { token: keep })).status).toBe(200);
      // B serves signed-in reads from memory (so each refusal above emptied what it held).
      expect((await call(b, 'GET', '/v1/me', { token: keep })).status).toBe(200);
      const metrics = (await call(b, 'GET', '/metrics')).text;
      expect(metrics).toMatch(/^verity_change_feed_up 1$/m);
      expect(Number(/^verity_member_cache_lookups_total\{result="hit"\} (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
    });
  });

  describe('rate limits and lock-outs are shared', () => {
    it('wrong passwords split across A and B reach one sign-in lock', async () => {
      const who = await signUp(a);
      const from = ip();
      for (let i = 0; i < 10; i++) {
        const res = await call(i % 2 ? b : a, 'POST', '/v1/sessions', { body: { login: who.username, password: 'not the password at all' }, from });
        expect(res.status, res.text).toBe(401);
      }
      // Ten wrong in all, five on each: the right password is refused on both.
      for (const server of [a, b]) {
        const res = await call(server, 'POST', '/v1/sessions', { body: { login: who.username, password: who.password }, from });
        expect(res.status, res.text).toBe(423);
        expect(res.json.code).toBe('account_locked');
      }
    });

    it('requests split across A and B meet one per-IP cap', async () => {
      const from = ip();
      // recovery_ip: 20 forgot-password requests an hour from one IP (each for another login).
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call(i % 2 ? b : a, 'POST', '/v1/recovery/password', { body: { login: `nobody-${i}-${n}@example.com` }, from })),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(202));
      // The counters are in the shared Redis, under this run's prefix.
      const redis = new Redis(redisUrl);
      expect((await redis.keys(`${redisPrefix}rl:recovery_ip*`)).length).toBeGreaterThan(0);
      await redis.quit();
      for (const server of [a, b]) {
        const res = await call(server, 'POST', '/v1/recovery/password', { body: { login: `nobody-more-${server.port}@example.com` }, from });
        expect(res.status, res.text).toBe(429);
        expect(res.json.code).toBe('rate_limited');
      }
    });
  });

  it('a notice published on A shows on B', async () => {
    // B has read (and may keep for a moment) the feed without the notice.
    const message = `Scheduled maintenance ${randomBytes(3).toString('hex')}`;
    expect((await call(b, 'GET', '/v1/notices')).json.map((x: { message: string }) => x.message)).not.toContain(message);
    const feed = { global: { message, icon: 'info', start: '', end: '' }, responsive: [] };
    const put = await call(a, 'PUT', '/v1/admin/notices/feed', { token: admin.token, body: feed });
    expect(put.status, put.text).toBe(200);
    const started = Date.now();
    await until('the notice on B', async () => (await call(b, 'GET', '/v1/notices')).json.some((x: { message: string }) => x.message === message), 10_000);
    // The feed cache promises 5 seconds.
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('outbox: e-mails and texts made on both processes are delivered each exactly once', async () => {
    const before = mail.received.length;
    // Each sign-up queues an e-mail, each phone verification a text, on the process that took it.
    const members = await Promise.all(Array.from({ length: 12 }, (_, i) => signUp(i % 2 ? b : a)));
    const phones = await Promise.all(
      members.map(async (m, i) => {
        const phone = phMobile();
        const res = await call(i % 2 ? a : b, 'POST', '/v1/me/phone', { token: m.token, body: { phone } });
        expect(res.status, res.text).toBe(202);
        return phone;
      }),
    );
    const recipients = [...members.map((m) => m.email), ...phones];
    const rows = async () => database.db.selectFrom('outbox').select(['id', 'status', 'channel', 'recipient']).where('recipient', 'in', recipients).execute();
    await until('every message sent', async () => {
      const list = await rows();
      return list.length >= recipients.length && list.every((r) => r.status === 'sent');
    });
    // A moment more for a duplicate to arrive, if one was handed over twice.
    await new Promise((r) => setTimeout(r, 500));
    const list = await rows();
    const emailIds = list.filter((r) => r.channel === 'email').map((r) => r.id).sort();
    expect(emailIds).toHaveLength(members.length);
    const delivered = mail.received
      .slice(before)
      .map((m) => /^<([^@]+)@/.exec(m.messageId ?? '')?.[1] ?? '')
      .filter((id) => emailIds.includes(id))
      .sort();
    expect(delivered).toEqual(emailIds);
    // Texts: one outbox row per number, and Twilio was asked to send each number exactly one.
    expect(list.filter((r) => r.channel === 'sms').map((r) => r.recipient).sort()).toEqual([...phones].sort());
    const texted = twilio.messages.map((m) => m.form.get('To')).filter((to) => to && phones.includes(to));
    expect(texted.sort()).toEqual([...phones].sort());
  });

  it('the security-reset waiting-period job is applied once', async () => {
    const agent = await signUp(a);
    const granted = await call(a, 'POST', '/v1/admin/staff', { token: admin.token, body: { login: agent.username, role: 'agent' } });
    expect(granted.status, granted.text).toBe(200);
    const owner = await signUp(b);
    const requested = await call(a, 'POST', '/v1/recovery/security-reset', {
      body: { login: owner.username, fullName: 'Maria Santos', contactEmail: `req-${owner.username}@contact.test`, details: 'I lost my phone on the bus and cannot sign in.' },
    });
    expect(requested.status, requested.text).toBe(202);
    const caseId = requested.json.requestId as string;
    await until('the request matched to the account', async () =>
      (await database.db.selectFrom('security_resets').select('account_id').where('case_id', '=', caseId).executeTakeFirst())?.account_id,
    );
    const approved = await call(b, 'POST', `/v1/agent/security-resets/${caseId}/decision`, { token: agent.token, body: { decision: 'approve', note: 'Checked against the account.' } });
    expect(approved.status, approved.text).toBe(200);

    // The waiting period has passed (the processes use the system clock: the row is moved back instead).
    await sql`UPDATE security_resets SET effective_at = now() - interval '1 second' WHERE case_id = ${caseId}`.execute(database.db);
    await sql`UPDATE jobs SET run_at = now() - interval '1 second' WHERE kind = 'security_reset.apply' AND payload->>'caseId' = ${caseId}`.execute(database.db);
    // A request that queues a job wakes each process's job worker at once: both race for the due reset.
    await Promise.all(
      [a, b].map((server, i) =>
        call(server, 'POST', '/v1/recovery/security-reset', {
          body: { login: `nobody-${i}-${caseId}`, fullName: 'Nobody Known', contactEmail: `nobody${i}@contact.test`, details: 'Waking the job worker.' },
        }),
      ),
    );
    await until('the reset applied', async () => (await database.db.selectFrom('security_resets').select('status').where('case_id', '=', caseId).executeTakeFirst())?.status === 'completed');
    const appliedMail = await until('the owner told, once', async () => {
      const row = await database.db.selectFrom('outbox').select(['id', 'status']).where('recipient', '=', owner.email).where('template', '=', 'security-reset-applied').executeTakeFirst();
      return row?.status === 'sent' ? row.id : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));

    const applied = await database.db.selectFrom('audit_events').select('details').where('event', '=', 'security_reset.applied').where('account_id', '=', owner.id).execute();
    expect(applied).toHaveLength(1);
    const pending = await database.db.selectFrom('jobs').select('id').where('kind', '=', 'security_reset.apply').where('done_at', 'is', null).execute();
    expect(pending).toEqual([]);
    const outbox = await database.db.selectFrom('outbox').select('id').where('recipient', '=', owner.email).where('template', '=', 'security-reset-applied').execute();
    expect(outbox).toHaveLength(1);
    expect(mail.to(owner.email).filter((m) => m.messageId?.startsWith(`<${appliedMail}@`))).toHaveLength(1);
    // The owner's sessions ended, on both processes.
    for (const server of [a, b]) expect((await call(server, 'GET', '/v1/me', { token: owner.token })).status).toBe(401);
  });
});
