import { sql, type Kysely } from 'kysely';
import type { DB } from './db/schema.js';

/** Who made a request, as recorded beside security events. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  /** The browser's device cookie as sent (sessions/known-devices.ts); only ever stored as an HMAC. */
  deviceCookie?: string | null;
  /** The edge's country for the request (COUNTRY_HEADER), when it sent one. */
  country?: string | null;
}

export const noMeta: RequestMeta = { ip: null, userAgent: null };

export type AuditEvent =
  | 'account.created'
  | 'account.email_verified'
  | 'account.updated'
  | 'account.roles_changed'
  | 'account.closed'
  | 'signin.succeeded'
  | 'signin.failed'
  | 'signin.locked'
  | 'session.revoked'
  | 'session.revoked_others'
  | 'session.signed_out'
  | 'password.changed'
  | 'password.rehashed'
  | 'staff.setup'
  | 'staff.granted'
  | 'staff.revoked'
  | 'service_key.created'
  | 'service_key.revoked'
  | (string & {});

export interface AuditEntry {
  event: AuditEvent;
  accountId?: string | null;
  actorId?: string | null;
  meta?: RequestMeta;
  details?: Record<string, unknown>;
}

/**
 * Appends one security event. Pass the transaction that makes the change, so the event
 * and the change commit together or not at all.
 */
export async function recordAudit(db: Kysely<DB>, at: Date, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      event: entry.event,
      account_id: entry.accountId ?? null,
      actor_id: entry.actorId ?? entry.accountId ?? null,
      ip: entry.meta?.ip ?? null,
      user_agent: entry.meta?.userAgent?.slice(0, 512) ?? null,
      // The edge's country rides in the details, so support can see where a sign-in came from.
      details: JSON.stringify(entry.meta?.country ? { ...entry.details, country: entry.meta.country } : (entry.details ?? {})),
      created_at: at,
    })
    .execute();
}

export interface AuditRecord {
  event: string;
  at: Date;
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  actorId: string | null;
}

/**
 * An account's newest security events, for a support agent's view: the event, when, and
 * from where. Details are left out on purpose (they are for the audit, not for display).
 */
export async function recentAudit(
  db: Kysely<DB>,
  accountId: string,
  filter: { events?: string[]; exceptEvents?: string[]; limit: number },
): Promise<AuditRecord[]> {
  let query = db
    .selectFrom('audit_events')
    .select(['event', 'created_at', 'ip', 'user_agent', 'actor_id', sql<string | null>`details->>'country'`.as('country')])
    .where('account_id', '=', accountId);
  if (filter.events?.length) query = query.where('event', 'in', filter.events);
  if (filter.exceptEvents?.length) query = query.where('event', 'not in', filter.exceptEvents);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map((r) => ({ event: r.event, at: r.created_at, ip: r.ip, userAgent: r.user_agent, country: r.country, actorId: r.actor_id }));
}

/** One audit row with its details, for the desk's history views (their keys are picked before showing). */
export interface AuditLogEntry {
  id: string;
  event: string;
  accountId: string | null;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
  createdAt: Date;
}

/**
 * The latest security events of an account, newest first: `events` keeps only those names,
 * `except` drops names starting with any of the given prefixes.
 */
export async function auditOf(
  db: Kysely<DB>,
  accountId: string,
  options: { limit: number; events?: readonly string[]; except?: readonly string[] },
): Promise<AuditLogEntry[]> {
  let query = db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId);
  if (options.events) query = query.where('event', 'in', [...options.events]);
  for (const prefix of options.except ?? []) query = query.where('event', 'not like', `${prefix.replace(/[%_\\]/g, '\\$&')}%`);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  return rows.map((r) => ({
    id: r.id,
    event: r.event,
    accountId: r.account_id,
    actorId: r.actor_id,
    ip: r.ip,
    userAgent: r.user_agent,
    details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
    createdAt: r.created_at,
  }));
}

/**
 * Deletes audit events older than `days` (AUDIT_RETENTION_DAYS, 400 by default) before the clock's now, oldest first, 1,000 a
 * transaction so a sweep never holds a long lock. The log refuses any other deletion: each
 * transaction names its cutoff to the table's trigger (migrations/0021_audit_retention.ts).
 * Returns how many went.
 */
export async function purgeAudit(db: Kysely<DB>, clock: { now(): Date }, days: number): Promise<number> {
  const before = new Date(clock.now().getTime() - days * 86400_000);
  let total = 0;
  for (;;) {
    const n = await db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('verity.audit_purge_before', ${before.toISOString()}, true)`.execute(trx);
      const result = await trx
        .deleteFrom('audit_events')
        .where('id', 'in', (eb) => eb.selectFrom('audit_events').select('id').where('created_at', '<', before).orderBy('created_at').limit(1000))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
    total += n;
    if (n < 1000) return total;
  }
}
