import type { Insertable, Kysely } from 'kysely';
import { addSeconds } from '../platform/clock.js';
import type { AccountRow, DB, SessionRow, SessionsTable } from '../platform/db/schema.js';

export async function insertSession(db: Kysely<DB>, row: Insertable<SessionsTable>): Promise<SessionRow> {
  return db.insertInto('sessions').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A session that is not revoked, not past its absolute lifetime and not idle too long. */
export async function findLiveSessionByHash(
  db: Kysely<DB>,
  tokenHash: string,
  now: Date,
  idleSeconds: number,
): Promise<{ session: SessionRow; account: AccountRow } | undefined> {
  const session = await db
    .selectFrom('sessions')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('last_seen_at', '>', addSeconds(now, -idleSeconds))
    .executeTakeFirst();
  if (!session) return undefined;
  const account = await db.selectFrom('accounts').selectAll().where('id', '=', session.account_id).executeTakeFirst();
  return account ? { session, account } : undefined;
}

/** Conditional, so concurrent requests on one session write lastSeenAt once a minute at most. */
export async function touchSession(db: Kysely<DB>, id: string, now: Date, notAfter: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).where('last_seen_at', '<=', notAfter).execute();
}

export async function listLiveSessions(db: Kysely<DB>, accountId: string, now: Date, idleSeconds: number): Promise<SessionRow[]> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('last_seen_at', '>', addSeconds(now, -idleSeconds))
    .orderBy('last_seen_at', 'desc')
    .execute();
}

export async function revokeSession(db: Kysely<DB>, accountId: string, sessionId: string, now: Date): Promise<number> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', sessionId)
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function revokeAllSessions(db: Kysely<DB>, accountId: string, now: Date, exceptId?: string): Promise<number> {
  let query = db.updateTable('sessions').set({ revoked_at: now }).where('account_id', '=', accountId).where('revoked_at', 'is', null);
  if (exceptId) query = query.where('id', '<>', exceptId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function setElevated(db: Kysely<DB>, sessionId: string, until: Date): Promise<void> {
  await db.updateTable('sessions').set({ elevated_until: until }).where('id', '=', sessionId).execute();
}
