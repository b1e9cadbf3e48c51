import type { Kysely } from 'kysely';
import type { DB } from './db/schema.js';

/** Who made a request, as recorded beside security events. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
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
      details: JSON.stringify(entry.details ?? {}),
      created_at: at,
    })
    .execute();
}
