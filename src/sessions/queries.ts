import type { ExpressionBuilder, Insertable, Kysely } from 'kysely';
import { addSeconds } from '../platform/clock.js';
import type { DB, MemberAccount, SessionRow, SessionsTable } from '../platform/db/schema.js';

export async function insertSession(db: Kysely<DB>, row: Insertable<SessionsTable>): Promise<SessionRow> {
  return db.insertInto('sessions').values(row).returningAll().executeTakeFirstOrThrow();
}

type SessionScope = DB & { s: SessionsTable };

/**
 * The one rule for a live session: not revoked, not past its absolute lifetime, not idle too
 * long. `live` says it in SQL, `isLive` the same for a session held in memory.
 */
export function isLive(s: Pick<SessionRow, 'revoked_at' | 'expires_at' | 'last_seen_at'>, now: Date, idleSeconds: number): boolean {
  return s.revoked_at === null && s.expires_at > now && s.last_seen_at > addSeconds(now, -idleSeconds);
}

function live(now: Date, idleSeconds: number) {
  return (eb: ExpressionBuilder<SessionScope, 's'>) =>
    eb.and([eb('s.revoked_at', 'is', null), eb('s.expires_at', '>', now), eb('s.last_seen_at', '>', addSeconds(now, -idleSeconds))]);
}

/**
 * What a signed-in request knows of its member: the account without its password hash.
 * The hash is read only where a password is checked (it must not ride along on every
 * request, into logs, error reports or a template's data).
 */
const MEMBER_COLUMNS = [
  'accounts.id',
  'accounts.email',
  'accounts.username',
  'accounts.full_name',
  'accounts.country',
  'accounts.roles',
  'accounts.email_verified_at',
  'accounts.status',
  'accounts.created_at',
  'accounts.updated_at',
  'accounts.closed_at',
] as const satisfies ReadonlyArray<`accounts.${keyof MemberAccount}`>;

/** A live session by its token's hash, with its account (no password hash). */
export async function findLiveSessionByHash(
  db: Kysely<DB>,
  tokenHash: string,
  now: Date,
  idleSeconds: number,
): Promise<{ session: SessionRow; account: MemberAccount } | undefined> {
  // One round trip: this runs on every signed-in request.
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('accounts', 'accounts.id', 's.account_id')
    .select(MEMBER_COLUMNS)
    .select([
      's.id as s_id',
      's.token_hash as s_token_hash',
      's.created_at as s_created_at',
      's.expires_at as s_expires_at',
      's.last_seen_at as s_last_seen_at',
      's.elevated_until as s_elevated_until',
      's.ip as s_ip',
      's.user_agent as s_user_agent',
      's.revoked_at as s_revoked_at',
    ])
    .where('s.token_hash', '=', tokenHash)
    .where(live(now, idleSeconds))
    .executeTakeFirst();
  if (!row) return undefined;
  const { s_id, s_token_hash, s_created_at, s_expires_at, s_last_seen_at, s_elevated_until, s_ip, s_user_agent, s_revoked_at, ...account } = row;
  const session: SessionRow = {
    id: s_id,
    account_id: account.id,
    token_hash: s_token_hash,
    created_at: s_created_at,
    expires_at: s_expires_at,
    last_seen_at: s_last_seen_at,
    elevated_until: s_elevated_until,
    ip: s_ip,
    user_agent: s_user_agent,
    revoked_at: s_revoked_at,
  };
  return { session, account };
}

/** Conditional, so concurrent requests on one session write lastSeenAt once a minute at most. */
export async function touchSession(db: Kysely<DB>, id: string, now: Date, notAfter: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).where('last_seen_at', '<=', notAfter).execute();
}

export async function listLiveSessions(db: Kysely<DB>, accountId: string, now: Date, idleSeconds: number): Promise<SessionRow[]> {
  return db
    .selectFrom('sessions as s')
    .selectAll()
    .where('s.account_id', '=', accountId)
    .where(live(now, idleSeconds))
    .orderBy('s.last_seen_at', 'desc')
    .execute();
}

/** When a live session of this account was last stepped up (null if never), and when the session ends; undefined if it is not live. */
export async function findLiveElevation(
  db: Kysely<DB>,
  accountId: string,
  sessionId: string,
  now: Date,
  idleSeconds: number,
): Promise<{ elevated_until: Date | null; expires_at: Date } | undefined> {
  return db
    .selectFrom('sessions as s')
    .select(['s.elevated_until', 's.expires_at'])
    .where('s.id', '=', sessionId)
    .where('s.account_id', '=', accountId)
    .where(live(now, idleSeconds))
    .executeTakeFirst();
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

/** The latest sign-in or use of any session of the account, ended ones included. */
export async function lastActivity(db: Kysely<DB>, accountId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('sessions')
    .select((eb) => [eb.fn.max('created_at').as('created'), eb.fn.max('last_seen_at').as('seen')])
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  const times = [row?.created, row?.seen].filter((t): t is Date => t instanceof Date || typeof t === 'string').map((t) => new Date(t));
  return times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : null;
}
