import { sql } from 'kysely';
import type { Db } from '../../src/platform/db/database.js';

/**
 * What may change although a request was refused, because recording the attempt is the point:
 * - `rate_limit_counters`: every request counts against its limits, refused ones most of all;
 * - `sessions.last_seen_at` and `service_keys.last_used_at`: a signed-in request (or one with a
 *   service key) marks its session or key as used, whatever it asked;
 * - audit entries that record a refusal: failed sign-ins and password checks, failed challenge
 *   answers, a phone number refused as in use (the audit log must show them, ASVS V7), and the
 *   challenge a step-up refusal opens (see the harness: that refusal hands the client a
 *   challenge, so it may add one).
 * Everything else (every table of the schema, read from the catalogue, so tables added later
 * are covered) must be exactly as it was.
 */
const SKIP_TABLES = new Set(['rate_limit_counters', 'kysely_migration', 'kysely_migration_lock']);
const SKIP_COLUMNS: Record<string, string[]> = { sessions: ['last_seen_at'], service_keys: ['last_used_at'] };
export const ATTEMPT_EVENTS = ['signin.failed', 'signin.many_failures', 'challenge.failed', 'challenge.opened', 'phone.in_use_refused'];
const SKIP_ROWS: Record<string, string> = { audit_events: `WHERE event NOT IN (${ATTEMPT_EVENTS.map((e) => `'${e}'`).join(', ')})` };

/**
 * The tables' contents, hashed. Hashing every row after every case costs more than the request
 * itself, so each round first reads a cheap mark per table (row count and newest row version,
 * `xmin`, which any insert or update raises) and hashes only the tables whose mark moved. The
 * hash decides: an update that wrote the same values (or a skipped column) is no change. Before
 * that, the snapshot's xmax (the next transaction id) tells whether anything wrote at all; on a
 * shared PostgreSQL other databases' writes move it too, which only costs the marks query.
 */
export class Digest {
  private marks: Record<string, string> = {};
  private hashes: Record<string, string> = {};
  private snapshot = '';

  private constructor(private readonly db: Db, readonly tables: string[]) {}

  static async open(db: Db): Promise<Digest> {
    const found = await sql<{ name: string }>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(db);
    const digest = new Digest(db, found.rows.map((r) => r.name).filter((name) => !SKIP_TABLES.has(name)));
    await digest.changes();
    return digest;
  }

  /** The tables whose contents differ from the last call's (all of them on the first). */
  async changes(): Promise<string[]> {
    // No transaction has finished writing since the last call: nothing can have changed.
    const snapshot = (await sql<{ s: string }>`SELECT pg_current_snapshot()::text AS s`.execute(this.db)).rows[0]!.s.split(':')[1]!;
    if (snapshot === this.snapshot) return [];
    this.snapshot = snapshot;
    const marks = await this.query((name) => [`count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text`, `"${name}"`], this.tables);
    const moved = this.tables.filter((name) => marks[name] !== this.marks[name]);
    this.marks = marks;
    if (!moved.length) return [];
    const hashes = await this.query((name) => {
      const drop = (SKIP_COLUMNS[name] ?? []).map((c) => ` - '${c}'`).join('');
      return [`md5(coalesce(string_agg(r, E'\\n' ORDER BY r), ''))`, `(SELECT (to_jsonb(x)${drop})::text AS r FROM "${name}" x ${SKIP_ROWS[name] ?? ''}) s`];
    }, moved);
    const changed = moved.filter((name) => hashes[name] !== this.hashes[name]);
    Object.assign(this.hashes, hashes);
    return changed;
  }

  /** One query for all the tables: `select` gives the value and the FROM of each. */
  private async query(select: (table: string) => [string, string], tables: string[]): Promise<Record<string, string>> {
    const text = tables.map((name) => { const [value, from] = select(name); return `SELECT '${name}' AS t, ${value} AS v FROM ${from}`; }).join(' UNION ALL ');
    const rows = (await sql.raw<{ t: string; v: string }>(text).execute(this.db)).rows;
    return Object.fromEntries(rows.map((r) => [r.t, r.v]));
  }
}
