/**
 * Seeds N members into a Verity database, fast enough for a million (issue 15 item 5).
 *
 *   npm run seed -- --accounts 1000000 --database-url postgres://postgres@127.0.0.1:5432/verity_seed
 *
 * The database is created if it does not exist and migrated; it must hold no seeded members
 * yet. Every row is made by the database itself (multi-row INSERT … SELECT FROM
 * generate_series, a batch of accounts per statement), so nothing crosses the wire per row.
 *
 * Rows are valid for the app: each account has an argon2id hash of SEED_PASSWORD (a few
 * hashes with different salts, made once: hashing a million would take hours), a live session
 * whose token is seedToken(i), so a benchmark can sign requests in as member i, and:
 * - a verified phone for 4 accounts in 5 (+1 212 200 0000 plus the index), with its verification;
 * - two-step verification for 2 in 10 (text for i % 10 = 1, e-mail for i % 10 = 2);
 * - a pending phone verification for 1 in 20, a revoked older session for 1 in 4;
 * - a known browser each, five audit events each and two sent e-mails each (outbox history);
 * - a staff role for 1 in `staffEvery`, a rate-limit counter each.
 * Ids are derived from the index (seedAccountId), so they are known without a query.
 * Members with i % 10 ≥ 3 have no second step: a password sign-in opens a session at once.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { hashPassword } from '../src/accounts/password.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import type { DB } from '../src/platform/db/schema.js';

export const SEED_PASSWORD = 'correct horse battery staple';

/** How many distinct argon2id hashes of SEED_PASSWORD the accounts share. */
const HASHES = 4;

/** Per table, the first group of the derived uuids: the rest is the row's number in hex. */
const PREFIX = {
  account: 'a0000000-0000-4000-8000-',
  session: 'b0000000-0000-4000-8000-',
  oldSession: 'b1000000-0000-4000-8000-',
  audit: 'c0000000-0000-4000-8000-',
  outbox: 'd0000000-0000-4000-8000-',
  verification: 'e0000000-0000-4000-8000-',
  pending: 'e1000000-0000-4000-8000-',
} as const;

const hex12 = (n: number) => n.toString(16).padStart(12, '0');

/** The id of seeded member i. */
export function seedAccountId(i: number): string {
  return PREFIX.account + hex12(i);
}

/** The id of seeded member i's live session. */
export function seedSessionId(i: number): string {
  return PREFIX.session + hex12(i);
}

/** The bearer token of seeded member i's live session (43 base64url characters, like a real one). */
export function seedToken(i: number): string {
  return createHash('sha256').update(`verity-seed-session-${i}`).digest('base64url');
}

export function seedLogin(i: number): string {
  return `seed${i}@members.verity.test`;
}

/** A member without a second step (a password sign-in opens a session at once). */
/** The verified phone of seeded member i (when i % 5 ≠ 0). */
export function seedPhone(i: number): string {
  return `+1212${2_000_000 + i}`;
}

export function plainMember(i: number): boolean {
  return i % 10 >= 3;
}

export interface SeedOptions {
  accounts: number;
  /** Accounts per statement. */
  batch?: number;
  /** One staff role for every this many accounts (the first one is an admin). */
  staffEvery?: number;
  /** The time rows are seeded at (sessions live from then); default now. */
  now?: Date;
  progress?: (done: number, total: number) => void;
}

export interface SeedResult {
  accounts: number;
  seconds: number;
}

// SQL pieces, with `i` the account's index from generate_series.
const uuidOf = (prefix: string, n: ReturnType<typeof sql>) => sql`(${prefix} || lpad(to_hex(${n}), 12, '0'))::uuid`;
const accountId = uuidOf(PREFIX.account, sql`i`);
const tokenSql = sql`translate(rtrim(encode(sha256(convert_to('verity-seed-session-' || i, 'UTF8')), 'base64'), '='), '+/', '-_')`;
/** Valid US numbers (New York, exchanges 200–999): the app parses what it shows. */
const e164 = sql`'+1212' || (2000000 + i)`;
const hasPhone = sql`i % 5 <> 0`;
/** Accounts were made over the last three years, one day apart per index mod 1095. */
const createdAt = (now: Date) => sql`${now}::timestamptz - ((i % 1095) || ' days')::interval - interval '1 hour'`;

async function seedBatch(db: Kysely<DB>, lo: number, hi: number, now: Date, hashes: string[], staffEvery: number): Promise<void> {
  const range = sql`generate_series(${lo}::int, ${hi - 1}::int) AS i`;
  const created = createdAt(now);
  await sql`
    INSERT INTO accounts (id, email, username, full_name, country, roles, password_hash, email_verified_at, status, created_at, updated_at)
    SELECT ${accountId}, 'seed' || i || '@members.verity.test', 'seed' || i, 'Seed Member ' || i, 'US',
           CASE i % 3 WHEN 0 THEN ARRAY['freelancer'] WHEN 1 THEN ARRAY['client'] ELSE ARRAY['agency'] END,
           (${hashes}::text[])[i % ${HASHES} + 1], ${created}, 'active', ${created}, ${created}
    FROM ${range}`.execute(db);
  await sql`
    INSERT INTO sessions (id, account_id, token_hash, created_at, expires_at, last_seen_at, ip, user_agent)
    SELECT ${uuidOf(PREFIX.session, sql`i`)}, ${accountId}, encode(sha256(convert_to(${tokenSql}, 'UTF8')), 'hex'),
           ${now}::timestamptz, ${now}::timestamptz + interval '30 days', ${now}::timestamptz, '203.0.113.' || (i % 250), 'Mozilla/5.0 (seed)'
    FROM ${range}`.execute(db);
  await sql`
    INSERT INTO sessions (id, account_id, token_hash, created_at, expires_at, last_seen_at, ip, user_agent, revoked_at)
    SELECT ${uuidOf(PREFIX.oldSession, sql`i`)}, ${accountId}, encode(sha256(convert_to('verity-seed-old-' || i, 'UTF8')), 'hex'),
           ${created}, ${created} + interval '30 days', ${created}, '198.51.100.' || (i % 250), 'Mozilla/5.0 (seed)', ${created} + interval '1 day'
    FROM ${range} WHERE i % 4 = 0`.execute(db);
  await sql`
    INSERT INTO phone_numbers (account_id, e164, country, line_type, verified_at, subscriber)
    SELECT ${accountId}, ${e164}, 'US', 'mobile', ${created}, ${e164}
    FROM ${range} WHERE ${hasPhone}`.execute(db);
  await sql`
    INSERT INTO phone_verifications (id, account_id, e164, country, line_type, voice_only, channel, status, code_hash, attempts, sends, streak,
                                     created_at, sent_at, expires_at, resend_after, finished_at)
    SELECT ${uuidOf(PREFIX.verification, sql`i`)}, ${accountId}, ${e164}, 'US', 'mobile', false, 'sms', 'verified', md5('code' || i), 1, 1, 1,
           ${created}, ${created}, ${created} + interval '10 minutes', ${created} + interval '1 minute', ${created} + interval '1 minute'
    FROM ${range} WHERE ${hasPhone}`.execute(db);
  await sql`
    INSERT INTO phone_verifications (id, account_id, e164, country, line_type, voice_only, channel, status, code_hash,
                                     created_at, sent_at, expires_at, resend_after)
    SELECT ${uuidOf(PREFIX.pending, sql`i`)}, ${accountId}, '+1312' || (2000000 + i), 'US', 'mobile', false, 'sms', 'pending', md5('pending' || i),
           ${now}::timestamptz - interval '1 hour', ${now}::timestamptz - interval '1 hour', ${now}::timestamptz - interval '50 minutes', ${now}::timestamptz - interval '59 minutes'
    FROM ${range} WHERE i % 20 = 7`.execute(db);
  await sql`
    INSERT INTO two_step_methods (account_id, type, added_at)
    SELECT ${accountId}, CASE i % 10 WHEN 1 THEN 'sms' ELSE 'email' END, ${created} + interval '2 days'
    FROM ${range} WHERE i % 10 IN (1, 2)`.execute(db);
  await sql`
    INSERT INTO known_devices (account_id, device_hash, first_seen_at, last_seen_at, user_agent)
    SELECT ${accountId}, encode(sha256(convert_to('verity-seed-device-' || i, 'UTF8')), 'hex'), ${created}, ${now}::timestamptz, 'Mozilla/5.0 (seed)'
    FROM ${range}`.execute(db);
  await sql`
    INSERT INTO audit_events (id, account_id, actor_id, event, ip, user_agent, details, created_at)
    SELECT ${uuidOf(PREFIX.audit, sql`i * 8 + k`)}, ${accountId}, ${accountId},
           (ARRAY['account.created', 'account.email_verified', 'signin.succeeded', 'signin.succeeded', 'password.changed'])[k + 1],
           '203.0.113.' || (i % 250), 'Mozilla/5.0 (seed)', '{}'::jsonb, ${created} + (k || ' hours')::interval
    FROM ${range}, generate_series(0, 4) AS k`.execute(db);
  await sql`
    INSERT INTO outbox (id, channel, recipient, template, status, attempts, next_attempt_at, created_at, sent_at)
    SELECT ${uuidOf(PREFIX.outbox, sql`i * 2 + k`)}, 'email', 'seed' || i || '@members.verity.test',
           (ARRAY['verify-email', 'welcome'])[k + 1], 'sent', 1, ${created}, ${created}, ${created} + interval '1 second'
    FROM ${range}, generate_series(0, 1) AS k`.execute(db);
  await sql`
    INSERT INTO staff_roles (account_id, role, granted_at)
    SELECT ${accountId}, CASE WHEN i = 0 THEN 'admin' ELSE 'agent' END, ${created}
    FROM ${range} WHERE i % ${staffEvery}::int = 0`.execute(db);
  await sql`
    INSERT INTO rate_limit_counters (key, count, expires_at)
    SELECT 'seed:signin:' || i, 1 + i % 3, ${now}::timestamptz + interval '1 hour'
    FROM ${range}`.execute(db);
}

/** Seeds members 0 … accounts−1 into a migrated database with none of them yet, then ANALYZEs. */
export async function seedMembers(db: Kysely<DB>, options: SeedOptions): Promise<SeedResult> {
  const began = performance.now();
  const now = options.now ?? new Date();
  const batch = options.batch ?? 20_000;
  const staffEvery = options.staffEvery ?? 10_000;
  if (options.accounts > 8_000_000) throw new Error('at most 8,000,000 members (their phone numbers would run out)');
  const hashes: string[] = [];
  for (let k = 0; k < HASHES; k++) hashes.push(await hashPassword(SEED_PASSWORD));
  for (let lo = 0; lo < options.accounts; lo += batch) {
    const hi = Math.min(options.accounts, lo + batch);
    // One transaction a batch: a failure leaves whole members, never half of one.
    await db.transaction().execute((trx) => seedBatch(trx, lo, hi, now, hashes, staffEvery));
    options.progress?.(hi, options.accounts);
  }
  await sql`ANALYZE`.execute(db);
  return { accounts: options.accounts, seconds: (performance.now() - began) / 1000 };
}

/** Table and index bytes of the tables seeding fills, and their sum. */
export async function tableSizes(db: Kysely<DB>): Promise<Array<{ table: string; rows: number; bytes: number }>> {
  const { rows } = await sql<{ table: string; rows: number; bytes: number }>`
    SELECT c.relname AS table, c.reltuples::bigint AS rows, pg_total_relation_size(c.oid) AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
    ORDER BY pg_total_relation_size(c.oid) DESC`.execute(db);
  return rows.map((r) => ({ table: r.table, rows: Number(r.rows), bytes: Number(r.bytes) }));
}

/** Creates the database named in the URL if it is missing. */
export async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected database name ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const accounts = Number(option(args, 'accounts') ?? 1000);
  const url = option(args, 'database-url') ?? process.env.DATABASE_URL;
  if (!url) throw new Error('--database-url postgres://… is required (seeding a million rows is for PostgreSQL)');
  if (!Number.isInteger(accounts) || accounts < 1) throw new Error('--accounts must be a positive integer');
  await ensureDatabase(url);
  const database = await openDatabase({ databaseUrl: url, poolSize: 2 });
  try {
    await migrateToLatest(database.db);
    const already = await database.db.selectFrom('accounts').select('id').where('id', '=', seedAccountId(0)).executeTakeFirst();
    if (already) throw new Error('this database is already seeded: use a fresh one');
    let last = 0;
    const result = await seedMembers(database.db, {
      accounts,
      progress: (done, total) => {
        if (done - last >= total / 10 || done === total) {
          last = done;
          process.stdout.write(`  ${done.toLocaleString('en')} / ${total.toLocaleString('en')} members\n`);
        }
      },
    });
    const sizes = await tableSizes(database.db);
    const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
    process.stdout.write(`seeded ${accounts.toLocaleString('en')} members in ${result.seconds.toFixed(1)} s\n`);
    for (const s of sizes.filter((x) => x.bytes > 1 << 20)) {
      process.stdout.write(`  ${s.table.padEnd(22)} ${String(s.rows).padStart(10)} rows ${(s.bytes / 2 ** 20).toFixed(1).padStart(9)} MB\n`);
    }
    process.stdout.write(`  total ${(total / 2 ** 20).toFixed(1)} MB, ${(total / accounts).toFixed(0)} bytes per member (tables and indexes)\n`);
  } finally {
    await database.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`seed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
