import { CompiledQuery, sql, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type QueryId, type UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLiveAccountByLogin, staffRolesOf } from '../../src/accounts/queries.js';
import { purgeAudit, recentAudit } from '../../src/platform/audit.js';
import type { Database } from '../../src/platform/db/database.js';
import { DbCounterStore } from '../../src/platform/ratelimit.js';
import { findPending, findVerifiedPhone } from '../../src/phone/queries.js';
import { KnownDevices } from '../../src/sessions/known-devices.js';
import { listMethods } from '../../src/twostep/queries.js';
import { seedAccountId, seedLogin, seedMembers, seedPhone, seedToken, SEED_PASSWORD } from '../../bench/seed.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { openTestDatabase } from '../helpers/database.js';

/**
 * Every query on the request path, and the workers' claims, read the big tables through an
 * index (issue 15 item 5). A few thousand members are seeded with the seeding tool and
 * ANALYZEd, so the planner prefers a sequential scan wherever no index fits (the control case
 * below shows it does). Queries are captured as the code builds them, by a Kysely plugin under
 * the real app, then EXPLAINed with their parameters: no plan may scan a big table in full.
 */

const MEMBERS = 3000;

/** Tables that grow with the members (or with their traffic). */
const BIG = new Set([
  'accounts',
  'sessions',
  'phone_numbers',
  'phone_verifications',
  'two_step_methods',
  'staff_roles',
  'rate_limit_counters',
  'outbox',
  'audit_events',
  'known_devices',
]);

const INDEXED = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']);

/** Records each query's tree while on; the test compiles and EXPLAINs them afterwards. */
class Capture implements KyselyPlugin {
  on = false;
  readonly seen: Array<{ node: RootOperationNode; queryId: QueryId }> = [];
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.on) this.seen.push({ node: args.node, queryId: args.queryId });
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  /** An INSERT … ON CONFLICT finds the row it may update through these unique indexes. */
  'Conflict Arbiter Indexes'?: string[];
  Plans?: PlanNode[];
}

function flatten(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) flatten(child, out);
  return out;
}

let base: Database;
let t: TestApp;
const capture = new Capture();

async function explain(query: CompiledQuery): Promise<PlanNode[]> {
  const result = await base.db.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]));
  const raw = result.rows[0]!['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode }>;
  return flatten(plan[0]!.Plan);
}

/** Runs `work` with capture on; returns each query it sent with its plan's nodes. */
async function plansOf(work: () => Promise<unknown>): Promise<Array<{ sql: string; nodes: PlanNode[] }>> {
  capture.seen.length = 0;
  capture.on = true;
  try {
    await work();
  } finally {
    capture.on = false;
  }
  const out = [];
  for (const { node, queryId } of capture.seen.splice(0)) {
    const compiled = base.db.getExecutor().compileQuery(node, queryId);
    out.push({ sql: compiled.sql, nodes: await explain(compiled) });
  }
  return out;
}

/** Asserts no full scan of a big table, and an index read of each table named. */
async function expectIndexed(work: () => Promise<unknown>, tables: string[]): Promise<void> {
  const plans = await plansOf(work);
  expect(plans.length, 'queries captured').toBeGreaterThan(0);
  for (const { sql, nodes } of plans) {
    const full = nodes.filter((n) => n['Node Type'] === 'Seq Scan' && BIG.has(n['Relation Name'] ?? '')).map((n) => n['Relation Name']);
    expect(full, `sequential scan in: ${sql}`).toEqual([]);
  }
  const viaIndex = new Set(
    plans.flatMap((p) => p.nodes.filter((n) => INDEXED.has(n['Node Type']) || (n['Conflict Arbiter Indexes']?.length ?? 0) > 0).map((n) => n['Relation Name'])),
  );
  for (const table of tables) expect(viaIndex.has(table), `${table} read through an index`).toBe(true);
}

/** Member i of the seed has a phone unless i % 5 = 0, 2SV by text when i % 10 = 1, no second step when i % 10 ≥ 3. */
const member = 1234;

beforeAll(async () => {
  base = await openTestDatabase();
  const start = new Date('2026-11-23T12:00:00Z');
  // Many staff, so the staff table is big enough for the planner to choose: real ones are small.
  await seedMembers(base.db, { accounts: MEMBERS, batch: 1000, staffEvery: 3, now: start });
  // Counters are per address and per login and window: a busy hour holds many more than members.
  await sql`INSERT INTO rate_limit_counters (key, count, expires_at) SELECT 'ip:' || g, 1, ${start}::timestamptz + interval '1 hour' FROM generate_series(1, 30000) AS g`.execute(base.db);
  await sql`ANALYZE rate_limit_counters`.execute(base.db);
  t = await createTestApp({ database: { ...base, db: base.db.withPlugin(capture), close: async () => undefined } });
  t.clock.advanceSeconds(60);
}, 120_000);

afterAll(async () => {
  await t?.close();
  await base?.close();
});

describe('hot queries use an index', () => {
  it('can see a full scan (control: an unindexed column of the seeded accounts)', async () => {
    const nodes = await explain(CompiledQuery.raw('SELECT id FROM accounts WHERE full_name = $1', ['Seed Member 7']));
    expect(nodes.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'accounts')).toBe(true);
  });

  it('session by token hash (every signed-in request)', async () => {
    let found: unknown;
    await expectIndexed(async () => (found = await t.app.verity.sessions.authenticate(seedToken(member))), ['sessions', 'accounts']);
    expect(found).toBeTruthy();
  });

  it('sign-in and GET /v1/me over HTTP: every query of the request', async () => {
    let token = '';
    await expectIndexed(async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: seedLogin(member), password: SEED_PASSWORD }, remoteAddress: '198.51.100.7' });
      expect(res.statusCode).toBe(200);
      token = (res.json() as { session: { token: string } }).session.token;
    }, ['accounts']);
    await expectIndexed(async () => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
    }, ['sessions', 'accounts']);
  });

  it('account by e-mail, by username, by phone', async () => {
    const db = t.db;
    await expectIndexed(() => findLiveAccountByLogin(db, seedLogin(member)), ['accounts']);
    await expectIndexed(() => findLiveAccountByLogin(db, `SEED${member}`), ['accounts']);
    let holder: string | undefined;
    await expectIndexed(async () => (holder = await t.app.verity.phone.holderOf(seedPhone(member))), ['phone_numbers']);
    expect(holder).toBe(seedAccountId(member));
  });

  it('staff roles, phone and pending verification, 2SV methods by account', async () => {
    const db = t.db;
    await expectIndexed(() => staffRolesOf(db, seedAccountId(member)), ['staff_roles']);
    await expectIndexed(() => findVerifiedPhone(db, seedAccountId(member)), ['phone_numbers']);
    await expectIndexed(() => findPending(db, seedAccountId(27)), ['phone_verifications']);
    await expectIndexed(() => listMethods(db, seedAccountId(1231)), ['two_step_methods']);
  });

  it('gate check (account, phone, 2SV, elevation)', async () => {
    const session = await t.db.selectFrom('sessions').select('id').where('account_id', '=', seedAccountId(1231)).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
    await expectIndexed(() => t.app.verity.gate.check(seedAccountId(1231), 'withdraw_funds', session.id), ['accounts', 'phone_numbers', 'two_step_methods', 'sessions']);
  });

  it('rate-limit counter, audit by account, known devices', async () => {
    const store = new DbCounterStore(t.db);
    await expectIndexed(() => store.getMany(['seed:signin:10', 'seed:signin:20']), ['rate_limit_counters']);
    await expectIndexed(() => recentAudit(t.db, seedAccountId(member), { limit: 20 }), ['audit_events']);
    const devices = new KnownDevices({ clock: t.clock, random: { bytes: (n: number) => Buffer.alloc(n, 7) } as never, key: Buffer.alloc(32, 1), outbox: t.app.verity.outbox, publicUrl: 'http://localhost:3000' });
    const meta = { ip: null, userAgent: 'test', deviceCookie: 'd'.repeat(43) };
    await t.db.transaction().execute((trx) => devices.seen(trx, seedAccountId(member), meta, { quiet: true }));
    // The second visit of a known browser finds its row by the primary key (the upsert's arbiter).
    await expectIndexed(() => t.db.transaction().execute((trx) => devices.seen(trx, seedAccountId(member), meta, { quiet: true })), ['known_devices']);
  });

  it('outbox claim (every process, SKIP LOCKED)', async () => {
    await expectIndexed(() => t.app.verity.outbox.runOnce(), ['outbox']);
  });

  it('retention sweeps: finished outbox messages and old audit events, by age', async () => {
    await expectIndexed(() => t.app.verity.outbox.purgeFinished(2000), ['outbox']);
    await expectIndexed(() => purgeAudit(t.db, t.clock, 2000), ['audit_events']);
  });
});
