import { loadavg } from 'node:os';
import { argonCeiling, bareFloor } from './baselines.js';
import { loadOn, PEER_SCENARIOS, SCENARIOS, SEND_RATE, type Figure, type Options, type Scenario } from './load.js';
import { peerLines, peerRun } from './peer/run.js';
import { runScale } from './scale.js';
import { withFreshPostgres } from './proc.js';

/**
 * `npm run bench -- [scenario ...] [--duration s] [--connections n] [--pool n] [--db pglite|postgres|both]`
 * runs the load scenarios (bench/load.ts) on each database and prints them beside the two
 * (with `--accounts 1000 --accounts 1000000`: read, gate and sign-in at those sizes, bench/scale.ts)
 * baselines (bench/baselines.ts) and the targets.
 */
export interface LoadArgs extends Options {
  scenarios: Scenario[];
  dbs: Array<'pglite' | 'postgres'>;
}

export function parseLoadArgs(argv: string[]): LoadArgs {
  const args: LoadArgs = { scenarios: [], dbs: ['pglite', 'postgres'], duration: 10, connections: 10, pool: 400 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--duration') args.duration = Number(value());
    else if (a === '--connections') args.connections = Number(value());
    else if (a === '--pool') args.pool = Number(value());
    else if (a === '--db') {
      const v = value();
      args.dbs = v === 'both' ? ['pglite', 'postgres'] : [v as 'pglite' | 'postgres'];
    } else if (a === 'all') args.scenarios.push(...SCENARIOS);
    else if ((SCENARIOS as readonly string[]).includes(a)) args.scenarios.push(a as Scenario);
    else throw new Error(`unknown argument ${a}: scenarios are ${SCENARIOS.join(', ')}; options --duration --connections --pool --db`);
  }
  if (!args.scenarios.length) args.scenarios.push(...SCENARIOS);
  for (const [name, v] of [['--duration', args.duration], ['--connections', args.connections], ['--pool', args.pool]] as const) {
    if (!Number.isFinite(v) || v < 1) throw new Error(`${name} must be a number ≥ 1`);
  }
  if (args.dbs.some((d) => d !== 'pglite' && d !== 'postgres')) throw new Error('--db is pglite, postgres or both');
  return args;
}

const SECRET = 'bench-secret-key-that-is-long-enough-0123456789';

export async function runLoad(argv: string[]): Promise<void> {
  // At several database sizes (seeded members): bench/scale.ts.
  if (argv.includes('--accounts')) return runScale(argv);
  const args = parseLoadArgs(argv);
  const began = performance.now();
  const load = [loadavg().map((l) => l.toFixed(1)).join(' ')];
  const rows: Row[] = [];
  const lines: string[] = [];
  const peerNotes: string[] = [];
  let body = '';
  const env = { SECRET_KEY: SECRET };
  for (const db of args.dbs) {
    console.error(`${db}: ${args.scenarios.join(', ')}`);
    const figures = db === 'pglite'
      ? await loadOn(db, env, args.scenarios, args, (b) => (body ||= b))
      : await withFreshPostgres('bench', (url) => loadOn(db, { ...env, DATABASE_URL: url }, args.scenarios, args, (b) => (body ||= b)));
    // The peer (better-auth) on a fresh database of the same PostgreSQL, right after Verity.
    const peer = args.scenarios.filter((s) => (PEER_SCENARIOS as readonly string[]).includes(s));
    if (peer.length && db === 'postgres') {
      console.error(`${db}: the peer, better-auth: ${peer.join(', ')}`);
      figures.push(...(await withFreshPostgres('bench', (url) => peerRun(db, url, peer, args, (b) => (body ||= b)))));
    } else if (peer.length && !args.dbs.includes('postgres')) peerNotes.push(`  (the peer runs on PostgreSQL only: ${peer.join(', ')} left out on ${db})`);
    // The baselines right after each database's scenarios: on a shared machine the load drifts.
    console.error(`${db}: baselines`);
    const floor = { ...(await bareFloor(body, args)), db };
    const argon = { ...(await argonCeiling(args.duration)), db };
    rows.push(...table([floor, argon, ...figures], floor, argon));
    lines.push(...targets(figures, floor, argon));
    peerNotes.push(...peerLines(figures));
  }
  load.push(loadavg().map((l) => l.toFixed(1)).join(' '));
  console.log('');
  print(rows);
  console.log('');
  console.log('targets (issue 15):');
  for (const line of lines) console.log(line);
  if (peerNotes.length) {
    console.log('');
    console.log('the peer (issue 15 item 4), same run, same load shape:');
    for (const line of peerNotes) console.log(line);
  }
  console.log('');
  console.log(`${args.duration} s per timed scenario, ${args.connections} connections, pool ${args.pool}; load average at start ${load[0]}, at end ${load[1]}`);
  console.log(`took ${((performance.now() - began) / 1000).toFixed(0)} s (Node ${process.version}, ${process.platform}/${process.arch})`);
}

type Row = string[];

const fixed = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '');

const HEADER = ['db', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'n', 'unexpected', '÷ floor', '÷ argon2', 'note'];

/** One database's rows as text cells, ratios against that database's baselines. */
function table(rows: Figure[], floor: Figure, argon: Figure): Row[] {
  return rows.map((f) => [
    f.db,
    f.scenario,
    fixed(f.rps),
    String(f.p50),
    String(f.p99),
    fixed(f.rssMb),
    String(f.requests),
    String(f.bad),
    f === floor || f === argon ? '' : `${(f.rps / floor.rps * 100).toFixed(1)}%`,
    f.scenario.includes('sign-in') ? `${(f.rps / argon.rps * 100).toFixed(0)}%` : '',
    f.note ?? '',
  ]);
}

function print(cells: Row[]): void {
  const header = HEADER;
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const c of cells) console.log(line(c));
}

/** The targets, each said plainly as met or missed, with the measured figure. */
function targets(figures: Figure[], floor: Figure, argon: Figure): string[] {
  const out: string[] = [];
  const say = (ok: boolean, text: string) => out.push(`  ${ok ? 'met   ' : 'MISSED'} ${text}`);
  // The peer's rows are set beside Verity's (peerLines), not judged against Verity's targets.
  figures = figures.filter((f) => !f.scenario.startsWith('peer'));
  for (const f of figures) {
    const share = f.rps / floor.rps;
    if (f.scenario.startsWith('read GET') || f.scenario.startsWith('gate')) say(share >= 0.5, `${f.db} ${f.scenario}: ${(share * 100).toFixed(1)}% of the bare floor (target ≥ 50%)`);
    if (f.scenario.startsWith('sign-in')) say(f.rps / argon.rps >= 0.9, `${f.db} sign-in: ${(f.rps / argon.rps * 100).toFixed(0)}% of the argon2id ceiling (target ≥ 90%)`);
    if (f.scenario.startsWith('read at 80%')) say(f.p99 < 20, `${f.db} read p99 at 80% of peak: ${f.p99} ms (target < 20 ms)`);
    if (f.note?.includes('hand-off')) {
      const p99 = Number(/p99 (\d+) ms/.exec(f.note)?.[1] ?? NaN);
      say(p99 < 1000 && f.rps >= SEND_RATE * 0.9, `${f.db} phone code to Twilio: hand-off p99 ${p99} ms at ${Math.round(f.rps)} sends/s (target: p99 < 1 s at ${SEND_RATE} sends/s)`);
    }
  }
  const pgPeak = Math.max(...figures.filter((f) => f.db === 'postgres').map((f) => f.rssMb));
  if (Number.isFinite(pgPeak)) say(pgPeak < 200, `PostgreSQL server RSS peak ${pgPeak.toFixed(0)} MB (target < 200 MB)`);
  const pglitePeak = Math.max(...figures.filter((f) => f.db === 'pglite').map((f) => f.rssMb));
  if (Number.isFinite(pglitePeak)) out.push(`  (info) PGlite server RSS peak ${pglitePeak.toFixed(0)} MB (the database runs inside the process)`);
  return out;
}
