import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import { CHANGE_FEED_APPLICATION } from '../../src/platform/db/change-feed.js';
import { sql } from 'kysely';
import { auth, createTestApp, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { onPostgres, openTestDatabase } from '../helpers/database.js';
import { makeAdmin, verifyNumber } from '../phone/helpers.js';

/** How many member-cache lookups of each result this app has counted (GET /metrics's figures). */
async function lookups(t: TestApp): Promise<Record<string, number>> {
  const metric = await t.app.verity.metrics.memberCacheLookups.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
}

async function feedUp(t: TestApp): Promise<number> {
  return (await t.app.verity.metrics.changeFeedUp.get()).values[0]?.value ?? 0;
}

function me(t: TestApp, who: { token: string }) {
  return t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(who.token) });
}

/** GET /v1/me twice: the second must come from memory, so a change after it has something to empty. */
async function primed(t: TestApp, who: { token: string }) {
  await me(t, who);
  const before = (await lookups(t)).hit ?? 0;
  const res = await me(t, who);
  expect(res.statusCode).toBe(200);
  expect((await lookups(t)).hit ?? 0).toBeGreaterThan(before);
  return res.json();
}

async function signIn(t: TestApp, who: SignedUp): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: who.username, password: who.password }, remoteAddress: randomIp() });
  expect(res.statusCode).toBe(200);
  return res.json().session.token;
}

describe('the member cache: every change is seen by the very next request', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves repeated signed-in reads from memory while the change feed is up', async () => {
    const member = await signUp(t);
    expect(await feedUp(t)).toBe(1);
    const before = await lookups(t);
    for (let i = 0; i < 5; i++) expect((await me(t, member)).statusCode).toBe(200);
    const after = await lookups(t);
    expect((after.hit ?? 0) - (before.hit ?? 0)).toBeGreaterThanOrEqual(8);
  });

  it('sign-out, revoking one session and revoking the others end them at once', async () => {
    const member = await signUp(t);
    const second = { token: await signIn(t, member) };
    const third = { token: await signIn(t, member) };
    await primed(t, member);
    await primed(t, second);
    await primed(t, third);

    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth(third.token) })).statusCode).toBe(204);
    expect((await me(t, third)).statusCode).toBe(401);

    const list = (await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(member.token) })).json() as Array<{ id: string; current: boolean }>;
    const others = list.filter((s) => !s.current);
    expect(others).toHaveLength(1);
    await primed(t, second);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${others[0]!.id}`, headers: auth(member.token) })).statusCode).toBe(204);
    expect((await me(t, second)).statusCode).toBe(401);

    const fourth = { token: await signIn(t, member) };
    await primed(t, fourth);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: auth(member.token) })).statusCode).toBeLessThan(300);
    expect((await me(t, fourth)).statusCode).toBe(401);
    expect((await me(t, member)).statusCode).toBe(200);
  });

  it('a password change ends the other sessions at once', async () => {
    const member = await signUp(t);
    const other = { token: await signIn(t, member) };
    await primed(t, other);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: auth(member.token),
      payload: { password: member.password, newPassword: 'an entirely new passphrase 93' },
    });
    expect(res.statusCode).toBe(200);
    expect((await me(t, other)).statusCode).toBe(401);
  });

  it('a lock, a staff role, a profile change, a phone and a two-step method show at once', async () => {
    const member = await signUp(t);
    await primed(t, member);

    const renamed = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: auth(member.token), payload: { fullName: 'Ada Cached' } });
    expect(renamed.statusCode).toBe(200);
    expect((await primed(t, member)).fullName).toBe('Ada Cached');

    await makeAdmin(t, member.id);
    expect((await primed(t, member)).staffRoles).toEqual(['admin']);

    const e164 = await verifyNumber(t, member);
    expect((await primed(t, member)).phone).toEqual({ number: e164, verified: true });

    const question = await t.app.inject({ method: 'PUT', url: '/v1/me/two-step/security-question', headers: auth(member.token), payload: { question: 'first_pet', answer: 'Rex the dog' } });
    expect(question.statusCode).toBe(200);
    expect((await primed(t, member)).twoStep).toEqual({ enabled: true, methods: ['security_question'] });

    await t.db.updateTable('accounts').set({ status: 'locked' }).where('id', '=', member.id).execute();
    expect((await me(t, member)).statusCode).toBe(401);
  });

  it('a service key held in memory is no session: as a bearer token it is refused with 401', async () => {
    const admin = await signUp(t);
    await makeAdmin(t, admin.id);
    const created = await t.app.inject({ method: 'POST', url: '/v1/admin/service-keys', headers: auth(admin.token), payload: { name: 'cache test' } });
    expect(created.statusCode).toBe(201);
    const key: string = created.json().key;
    const gate = () => t.app.inject({ method: 'POST', url: '/v1/gate/check', headers: auth(key), payload: { accountId: admin.id, action: 'post_job' } });
    expect((await gate()).statusCode).toBe(200);
    expect((await gate()).statusCode).toBe(200);
    // The key's hash is in memory now; a session lookup by the same hash must not find it.
    expect((await me(t, { token: key })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/service-keys', headers: auth(key) })).statusCode).toBe(401);
  });

  it('closing the account ends its sessions at once', async () => {
    const member = await signUp(t);
    await primed(t, member);
    const res = await t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(member.token), payload: { password: member.password } });
    expect(res.statusCode).toBeLessThan(300);
    expect((await me(t, member)).statusCode).toBe(401);
  });
});

/**
 * Two apps on one PostgreSQL database, each with its own pool and its own LISTEN connection:
 * two processes as far as the cache can tell. PGlite is one process's database, so this part
 * runs on PostgreSQL only.
 */
describe.skipIf(!onPostgres)('two processes on one PostgreSQL database', () => {
  let first: Database & { url?: string };
  let secondDb: Database;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    first = await openTestDatabase();
    secondDb = await openDatabase({ databaseUrl: first.url!, poolSize: 4 });
    a = await createTestApp({ database: first });
    b = await createTestApp({ database: secondDb });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await secondDb?.close();
    await first?.close();
  });

  async function until(check: () => Promise<boolean>, limitMs: number): Promise<number> {
    const started = performance.now();
    while (!(await check())) {
      if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now() - started;
  }

  it('a session revoked on one is refused on the other within a second', async () => {
    const member = await signUp(a);
    const other = { token: await signIn(a, member) };
    await primed(b, other);
    expect((await a.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth(other.token) })).statusCode).toBe(204);
    const took = await until(async () => (await me(b, other)).statusCode === 401, 1000);
    expect(took).toBeLessThan(1000);
  });

  it('a lost channel empties the cache and falls back to the database until it is back', async () => {
    const member = await signUp(a);
    const other = { token: await signIn(a, member) };
    await primed(b, other);
    await primed(b, member);

    // Cut every listening connection to this database, as a network fault or a restart would.
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${CHANGE_FEED_APPLICATION} AND datname = current_database()`.execute(first.db);
    await until(async () => (await feedUp(b)) === 0, 2000);

    // Nobody is told of this revocation: only the database knows.
    await first.db.updateTable('sessions').set({ revoked_at: new Date() }).where('account_id', '=', member.id).execute();
    const before = await lookups(b);
    expect((await me(b, other)).statusCode).toBe(401);
    expect((await me(b, member)).statusCode).toBe(401);
    expect(((await lookups(b)).bypass ?? 0) - (before.bypass ?? 0)).toBeGreaterThanOrEqual(2);

    // It comes back by itself, and memory serves again.
    await until(async () => (await feedUp(b)) === 1, 5000);
    const fresh = await signUp(a);
    await primed(b, fresh);
  });
});
