import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { call } from './client.js';
import { startVerity, withFreshPostgres, withRssPeak, type Proc } from './proc.js';
import { cannon as loadCannon } from './load.js';
import { plainMember, seedAccountId, seedLogin, seedMembers, seedSessionId, seedToken, SEED_PASSWORD, tableSizes } from './seed.js';

/**
 * `npm run bench -- --accounts 1000 --accounts 1000000 [read gate signin] [--duration s] [--connections n] [--sample n]`
 *
 * The same scenarios at several database sizes (issue 15 item 5): for each size, a fresh
 * PostgreSQL database (on DATABASE_URL's server, dropped after) is seeded with that many
 * members by bench/seed.ts, then the built server is measured on it. Requests go round a
 * sample of members spread over the whole table (their tokens and ids are derived from the
 * index), so lookups land all over the indexes, not on one hot row. Prints p99 at the largest
 * size ÷ p99 at the smallest, per scenario (target ≤ 1.2).
 */
const SCALE_SCENARIOS = ['read', 'gate', 'signin'] as const;
type ScaleScenario = (typeof SCALE_SCENARIOS)[number];

interface ScaleArgs {
  sizes: number[];
  scenarios: ScaleScenario[];
  duration: number;
  connections: number;
  sample: number;
}

export function parseScaleArgs(argv: string[]): ScaleArgs {
  const args: ScaleArgs = { sizes: [], scenarios: [], duration: 10, connections: 10, sample: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--accounts') args.sizes.push(...value().split(',').map(Number));
    else if (a === '--duration') args.duration = Number(value());
    else if (a === '--connections') args.connections = Number(value());
    else if (a === '--sample') args.sample = Number(value());
    else if ((SCALE_SCENARIOS as readonly string[]).includes(a)) args.scenarios.push(a as ScaleScenario);
    else throw new Error(`with --accounts: scenarios are ${SCALE_SCENARIOS.join(', ')}; options --accounts --duration --connections --sample (PostgreSQL only)`);
  }
  if (!args.scenarios.length) args.scenarios.push(...SCALE_SCENARIOS);
  for (const n of [...args.sizes, args.duration, args.connections, args.sample]) {
    if (!Number.isInteger(n) || n < 1) throw new Error('--accounts, --duration, --connections and --sample take whole numbers ≥ 1');
  }
  args.sizes.sort((a, b) => a - b);
  return args;
}

interface Figure {
  accounts: number;
  scenario: ScaleScenario;
  rps: number;
  p50: number;
  p99: number;
  rssMb: number;
  requests: number;
  bad: number;
}

/** Each request takes the next member of the sample. */
function rotating(method: 'GET' | 'POST', path: string, make: (k: number) => { headers: Record<string, string>; body?: string }): autocannon.Request {
  let next = 0;
  return {
    method,
    path,
    setupRequest: (req: autocannon.Request) => ({ ...req, ...make(next++) }),
  } as autocannon.Request;
}

/** The load bench's runner (bench/load.ts: a second's warm-up, then the timed run), on one request. */
function cannon(base: string, o: ScaleArgs, request: autocannon.Request, expected: number) {
  return loadCannon({ url: base, duration: o.duration, connections: o.connections, requests: [request] }, expected);
}

/** `count` member indexes spread evenly over 0 … accounts−1, each passing `keep`. */
function sampleOf(accounts: number, count: number, keep: (i: number) => boolean = () => true): number[] {
  const out: number[] = [];
  const step = Math.max(1, Math.floor(accounts / count));
  for (let i = 0; i < accounts && out.length < count; i += step) {
    let j = i;
    while (j < accounts && !keep(j)) j++;
    if (j < accounts) out.push(j);
  }
  return out;
}

async function onSize(url: string, accounts: number, o: ScaleArgs): Promise<Figure[]> {
  const database = await openDatabase({ databaseUrl: url, poolSize: 2 });
  const sample = sampleOf(accounts, o.sample);
  try {
    await migrateToLatest(database.db);
    const seeded = await seedMembers(database.db, { accounts, progress: (done, total) => done === total || done % 200_000 === 0 ? console.error(`  seeded ${done} / ${total}`) : undefined });
    const sizes = await tableSizes(database.db);
    const bytes = sizes.reduce((sum, t) => sum + t.bytes, 0);
    console.error(`  ${accounts} members seeded in ${seeded.seconds.toFixed(1)} s: ${(bytes / 2 ** 20).toFixed(0)} MB of tables and indexes, ${(bytes / accounts).toFixed(0)} bytes a member`);
    // Seen just now, so no request of the run writes last_seen_at (at either size alike).
    await database.db.updateTable('sessions').set({ last_seen_at: new Date() }).where('id', 'in', sample.map(seedSessionId)).execute();
    await sql`VACUUM ANALYZE sessions`.execute(database.db);
  } finally {
    await database.close();
  }
  const figures: Figure[] = [];
  const measure = async (server: Proc, scenario: ScaleScenario, run: () => ReturnType<typeof cannon>) => {
    const { result, peakMb } = await withRssPeak(server.child.pid, run);
    const figure = { accounts, scenario, rssMb: peakMb, ...result };
    console.error(`  ${accounts} ${scenario}: ${Math.round(figure.rps)}/s p99 ${figure.p99} ms${figure.bad ? `, ${figure.bad} unexpected` : ''}`);
    figures.push(figure);
  };
  const env = { SECRET_KEY: 'bench-secret-key-that-is-long-enough-0123456789', DATABASE_URL: url };
  if (o.scenarios.includes('read') || o.scenarios.includes('gate')) {
    const server = await startVerity({ ...env, RATE_LIMIT: 'on' });
    try {
      if (o.scenarios.includes('read')) {
        const read = rotating('GET', '/v1/me', (k) => ({ headers: { authorization: `Bearer ${seedToken(sample[k % sample.length]!)}` } }));
        await measure(server, 'read', () => cannon(server.base, o, read, 200));
      }
      if (o.scenarios.includes('gate')) {
        // Member 0 is the seed's admin (no second step): it makes the service key.
        const made = await call(server.base, 'POST', '/v1/admin/service-keys', { token: seedToken(0), body: { name: 'bench scale' } });
        if (made.status !== 201) throw new Error(`service key: ${made.status} ${JSON.stringify(made.json)}`);
        const key = (made.json as { key: string }).key;
        const gate = rotating('POST', '/v1/gate/check', (k) => ({
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ accountId: seedAccountId(sample[k % sample.length]!), action: 'post_job' }),
        }));
        await measure(server, 'gate', () => cannon(server.base, o, gate, 200));
      }
    } finally {
      await server.stop();
    }
  }
  if (o.scenarios.includes('signin')) {
    const server = await startVerity({ ...env, RATE_LIMIT: 'off' });
    try {
      const plain = sampleOf(accounts, Math.min(o.sample, 2000), plainMember);
      const signin = rotating('POST', '/v1/sessions', (k) => ({
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: seedLogin(plain[k % plain.length]!), password: SEED_PASSWORD }),
      }));
      await measure(server, 'signin', () => cannon(server.base, o, signin, 200));
    } finally {
      await server.stop();
    }
  }
  return figures;
}


export async function runScale(argv: string[]): Promise<void> {
  const o = parseScaleArgs(argv);
  const began = performance.now();
  const loadAtStart = loadavg().map((l) => l.toFixed(1)).join(' ');
  const figures: Figure[] = [];
  for (const accounts of o.sizes) {
    console.error(`postgres, ${accounts} members: ${o.scenarios.join(', ')}`);
    figures.push(...(await withFreshPostgres(`scale_${accounts}`, (url) => onSize(url, accounts, o))));
  }
  console.log('');
  console.log('members    scenario  req/s  p50 ms  p99 ms  RSS MB  n       unexpected');
  for (const f of figures) {
    console.log(`${String(f.accounts).padEnd(10)} ${f.scenario.padEnd(9)} ${f.rps.toFixed(0).padStart(5)}  ${String(f.p50).padStart(6)}  ${String(f.p99).padStart(6)}  ${f.rssMb.toFixed(0).padStart(6)}  ${String(f.requests).padEnd(7)} ${f.bad}`);
  }
  const small = o.sizes[0]!;
  const large = o.sizes[o.sizes.length - 1]!;
  if (large > small) {
    console.log('');
    console.log(`p99 at ${large} members ÷ p99 at ${small} (issue 15 target ≤ 1.2):`);
    for (const scenario of o.scenarios) {
      const a = figures.find((f) => f.accounts === small && f.scenario === scenario);
      const b = figures.find((f) => f.accounts === large && f.scenario === scenario);
      if (!a || !b) continue;
      const ratio = b.p99 / Math.max(a.p99, 1);
      console.log(`  ${ratio <= 1.2 ? 'met   ' : 'MISSED'} ${scenario}: ${b.p99} ms ÷ ${a.p99} ms = ${ratio.toFixed(2)} (req/s ${b.rps.toFixed(0)} vs ${a.rps.toFixed(0)})`);
    }
  }
  console.log('');
  console.log(`${o.duration} s per scenario, ${o.connections} connections, sample of ${o.sample} members; load average at start ${loadAtStart}, at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`took ${((performance.now() - began) / 1000).toFixed(0)} s (Node ${process.version})`);
}
