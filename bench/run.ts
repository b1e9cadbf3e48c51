/**
 * Verity benchmark.
 *
 *   npm run bench                                   # load scenarios (autocannon), PGlite and PostgreSQL
 *   npm run bench -- read gate --duration 5         # chosen scenarios, 5 s each (see BENCHMARKS.md)
 *   npm run bench -- inject                         # the in-process figures (a)–(f) below
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- inject  # …on both databases
 *
 * The load scenarios (bench/load-main.ts) run the built server as a separate process and
 * measure it over loopback against a bare node:http floor and a bare argon2id ceiling. The
 * rest of this file is the in-process set:
 *
 * With DATABASE_URL it creates its own database (verity_bench_<random>) on that server and
 * drops it at the end; the database named in the URL is only used to connect. It takes
 * 15–40 s on the 2-core machines. Nothing here asserts a time: each figure is set against a
 * baseline measured in the same run on the same machine, and the ratio is what to compare
 * between runs (absolute times move with the machine's load).
 *
 *   (a) e-mail request → hand-off: POST /v1/me/email-verification until the (development)
 *       transport has accepted the message, through the transactional outbox and its worker
 *       woken after the commit — against one bare INSERT round trip.
 *   (b) GET /v1/me (bearer session) throughput via app.inject — against GET /healthz.
 *   (c) POST /v1/sessions with the right password — against one bare argon2 verify.
 *   (d) phone code request → hand-off: POST /v1/me/phone (parse, screen, store the keyed
 *       hash, enqueue) until the SMS transport has accepted the code — the issue's target is
 *       under 1 s at p99 — against one bare INSERT round trip.
 *   (e) start time (bench/start.ts): `npm start` spawned until GET /healthz first answers 200,
 *       for a fresh install (full build, new DATA_DIR) and for restarts of the unchanged
 *       checkout — against a bare `node -e 0`. `npm run bench -- start` runs only this one.
 *   (f) timing gaps (bench/gaps.ts): the median time of 200 requests each for a known and an
 *       unknown login (forgot password, anonymous compromise report, wrong-password sign-in)
 *       and for used and unknown "this wasn't me" tokens — the issue's target is a gap under
 *       5 ms. `npm run bench -- gaps` runs only this one (on each database).
 *
 * Rate limits are off (RATE_LIMIT=off), as for any load test. RSS is printed before/after.
 */
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { hashPassword } from '../src/accounts/password.js';
import { buildApp } from '../src/app.js';
import { systemClock } from '../src/platform/clock.js';
import { loadConfig } from '../src/platform/config.js';
import { secureRandom } from '../src/platform/crypto.js';
import { openDatabase, type Database } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { DevOutboxTransport } from '../src/platform/messaging/transports/dev-outbox.js';
import { DbCounterStore } from '../src/platform/ratelimit.js';
import { deriveSecrets } from '../src/platform/secrets.js';
import { HandoffProbe, ms, perSecond, rssMb, throughput, timeEach, type Sample } from './measure.js';
import { benchGaps, gapCells } from './gaps.js';
import { benchStart } from './start.js';
import { runLoad } from './load-main.js';

const SECRET = 'bench-secret-key-that-is-long-enough-0123456789';
const PASSWORD = 'correct horse battery staple';

interface Row {
  db: string;
  what: string;
  value: string;
  p99: string;
  n: string;
  baseline: string;
  ratio: string;
}

async function benchOn(kind: string, database: Database, rows: Row[], only?: 'gaps'): Promise<void> {
  const { db } = database;
  const began = performance.now();
  await migrateToLatest(db);
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'verity-bench-')),
    PUBLIC_URL: 'http://localhost:3000',
    SECRET_KEY: SECRET,
    RATE_LIMIT: 'off',
    LOG_LEVEL: 'silent',
  });
  // The system clock, movable forward: (d) steps an hour per request so that the phone
  // resend cooldown and hourly caps (real rules, not rate limits) never refuse the bench.
  let skew = 0;
  const clock = { now: () => new Date(systemClock.now().getTime() + skew) };
  const probe = new HandoffProbe(new DevOutboxTransport(db, clock));
  const app = await buildApp({
    config,
    db,
    clock,
    random: secureRandom,
    secrets: deriveSecrets(SECRET),
    transports: { email: probe, sms: probe, voice: probe },
    counterStore: new DbCounterStore(db),
    logger: pino({ level: 'silent' }),
  });
  await app.ready();
  const outbox = app.verity.outbox;
  outbox.start();
  try {
    const tag = `bench${randomBytes(4).toString('hex')}`;
    const signup = await app.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: { email: `${tag}@example.com`, username: tag, password: PASSWORD, country: 'PH', roles: ['freelancer'] },
      remoteAddress: '127.0.0.1',
    });
    if (signup.statusCode !== 201) throw new Error(`sign-up failed: ${signup.statusCode} ${signup.body}`);
    const headers = { authorization: `Bearer ${signup.json().session.token as string}` };
    await outbox.settled();

    // (f) timing gaps between answers that must not tell known from unknown.
    for (const g of await benchGaps(app, { id: signup.json().account.id as string, username: tag })) {
      rows.push({ db: kind, what: g.what, n: `${g.n}/${g.n}`, ...gapCells(g) });
    }
    if (only === 'gaps') return;

    // (a) e-mail hand-off vs one INSERT round trip.
    let n = 0;
    const insert = await timeEach(
      300,
      () => sql`INSERT INTO rate_limit_counters (key, count, expires_at) VALUES (${`bench:${tag}:${n++}`}, 1, ${systemClock.now()})`.execute(db),
      1.5,
    );
    const handoff = await timeEach(200, async () => {
      const accepted = probe.next();
      const res = await app.inject({ method: 'POST', url: '/v1/me/email-verification', headers });
      if (res.statusCode !== 202) throw new Error(`resend failed: ${res.statusCode} ${res.body}`);
      await accepted;
    }, 3);
    rows.push(row(kind, 'e-mail request → hand-off', handoff, 'INSERT round trip', insert));

    // (d) phone code hand-off: a new mobile number each time, so each is a fresh verification
    // (100 hours of skew stays inside the session's 7-day idle and 30-day absolute lifetimes).
    let number = 0;
    const phoneHandoff = await timeEach(100, async () => {
      skew += 60 * 60 * 1000;
      const accepted = probe.next();
      const phone = `+63917${String(1000000 + number++).padStart(7, '0')}`;
      const res = await app.inject({ method: 'POST', url: '/v1/me/phone', headers, payload: { phone } });
      if (res.statusCode !== 202) throw new Error(`phone start failed: ${res.statusCode} ${res.body}`);
      await accepted;
    }, 3);
    rows.push(row(kind, 'phone code request → hand-off', phoneHandoff, 'INSERT round trip', insert));

    // (b) authenticated GET throughput vs the health check.
    const me = await throughput(1.5, 8, async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/me', headers });
      if (res.statusCode !== 200) throw new Error(`GET /v1/me: ${res.statusCode}`);
    });
    const health = await throughput(1.5, 8, () => app.inject({ method: 'GET', url: '/healthz' }));
    rows.push({ db: kind, what: 'GET /v1/me throughput', value: perSecond(me), p99: '', n: '1.5 s × 8', baseline: `GET /healthz ${perSecond(health)}`, ratio: (me / health).toFixed(2) });

    // (c) sign-in vs one argon2 verify of the same kind of hash.
    const hash = await hashPassword(PASSWORD);
    const argon = await timeEach(40, () => verify(hash, PASSWORD), 1.5);
    const signIn = await timeEach(40, async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: tag, password: PASSWORD }, remoteAddress: '127.0.0.1' });
      if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
    }, 3);
    rows.push(row(kind, 'sign-in (POST /v1/sessions)', signIn, 'argon2 verify', argon));
  } finally {
    await outbox.stop();
    await app.close();
  }
  console.error(`${kind}: measured in ${((performance.now() - began) / 1000).toFixed(1)} s`);
}

function row(db: string, what: string, sample: Sample, baselineName: string, baseline: Sample): Row {
  return {
    db,
    what,
    value: `p50 ${ms(sample.p50)}`,
    p99: `p99 ${ms(sample.p99)}`,
    n: `${sample.n}/${baseline.n}`,
    baseline: `${baselineName} p50 ${ms(baseline.p50)}`,
    ratio: `${(sample.p50 / baseline.p50).toFixed(1)}×`,
  };
}

async function withPostgres(url: string, fn: (database: Database) => Promise<void>): Promise<void> {
  const name = `verity_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const target = new URL(url);
    target.pathname = `/${name}`;
    const database = await openDatabase({ databaseUrl: target.toString(), poolSize: 8 });
    try {
      await fn(database);
    } finally {
      await database.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function print(rows: Row[]): void {
  const columns: Array<keyof Row> = ['db', 'what', 'value', 'p99', 'n', 'baseline', 'ratio'];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(columns.map((c) => r[c])));
}

async function startRows(rows: Row[]): Promise<void> {
  const t = await benchStart();
  const seconds = (v: number) => `${(v / 1000).toFixed(1)} s`;
  const cpu = (v: number | undefined) => (v === undefined ? '' : `cpu ${v.toFixed(1)} s`);
  const baseline = `node -e 0 p50 ${ms(t.node.p50)}`;
  rows.push({ db: 'pglite', what: 'npm start → /healthz 200, fresh install', value: seconds(t.fresh.p50), p99: cpu(t.freshCpu), n: '1', baseline, ratio: `${(t.fresh.p50 / t.node.p50).toFixed(0)}×` });
  rows.push({ db: 'pglite', what: 'npm start → /healthz 200, restart', value: `p50 ${seconds(t.restart.p50)}`, p99: cpu(t.restartCpu), n: String(t.restart.n), baseline, ratio: `${(t.restart.p50 / t.node.p50).toFixed(0)}×` });
  console.error(`start time measured at load average ${t.load}`);
}

async function main(): Promise<void> {
  const began = performance.now();
  const rows: Row[] = [];
  if (process.argv[2] === 'start') {
    await startRows(rows);
    print(rows);
    return;
  }
  if (process.argv[2] !== 'gaps' && process.argv[2] !== 'inject') return runLoad(process.argv.slice(2));
  const only = process.argv[2] === 'gaps' ? 'gaps' : undefined;
  const memory: string[] = [`start ${rssMb().toFixed(0)} MB`];

  const pglite = await openDatabase({});
  memory.push(`PGlite open ${rssMb().toFixed(0)} MB`);
  try {
    await benchOn('pglite', pglite, rows, only);
  } finally {
    await pglite.close();
  }
  memory.push(`after PGlite ${rssMb().toFixed(0)} MB`);

  if (process.env.DATABASE_URL) {
    await withPostgres(process.env.DATABASE_URL, (database) => benchOn('postgres', database, rows, only));
    memory.push(`after PostgreSQL ${rssMb().toFixed(0)} MB`);
  }

  if (!only) await startRows(rows);

  console.log('');
  print(rows);
  console.log('');
  console.log(`RSS: ${memory.join(' → ')}`);
  console.log(`took ${((performance.now() - began) / 1000).toFixed(1)} s (Node ${process.version}, ${process.platform}/${process.arch})`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
