import { sql, type Insertable, type Kysely } from 'kysely';
import type { ChallengeCodeRow, ChallengeCodesTable, ChallengePurpose, ChallengeRow, ChallengesTable, DB } from '../platform/db/schema.js';

export async function insertChallenge(db: Kysely<DB>, row: Insertable<ChallengesTable>): Promise<ChallengeRow> {
  return db.insertInto('challenges').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A challenge that can still be passed: pending and not expired. */
export async function findOpenChallenge(db: Kysely<DB>, tokenHash: string, now: Date): Promise<ChallengeRow | undefined> {
  return db
    .selectFrom('challenges')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** Marks a challenge passed; false when it was passed (or expired) meanwhile, so it passes once. */
export async function markPassed(db: Kysely<DB>, id: string, method: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('challenges')
    .set({ status: 'passed', passed_at: now, passed_method: method })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function findCode(db: Kysely<DB>, challengeId: string, method: string): Promise<ChallengeCodeRow | undefined> {
  return db.selectFrom('challenge_codes').selectAll().where('challenge_id', '=', challengeId).where('method', '=', method).executeTakeFirst();
}

/** The first code of a method at a challenge; undefined when another request sent one first. */
export async function insertCode(db: Kysely<DB>, row: Insertable<ChallengeCodesTable>): Promise<ChallengeCodeRow | undefined> {
  return db
    .insertInto('challenge_codes')
    .values(row)
    .onConflict((oc) => oc.columns(['challenge_id', 'method']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** A new code in place of the last, if its cooldown is over and sends remain (conditional, so racing resends send once). */
export async function replaceCode(
  db: Kysely<DB>,
  key: { challengeId: string; method: string },
  now: Date,
  maxSends: number,
  changes: { code_hash: string; expires_at: Date; resend_after: Date },
): Promise<ChallengeCodeRow | undefined> {
  return db
    .updateTable('challenge_codes')
    .set({ ...changes, attempts: 0, sends: sql`sends + 1`, sent_at: now, used_at: null })
    .where('challenge_id', '=', key.challengeId)
    .where('method', '=', key.method)
    .where('sends', '<', maxSends)
    .where('resend_after', '<=', now)
    .returningAll()
    .executeTakeFirst();
}

/** Counts one try BEFORE comparing: a code used up, expired or out of tries gets no row back. */
export async function countCodeAttempt(db: Kysely<DB>, challengeId: string, method: string, maxAttempts: number, now: Date): Promise<ChallengeCodeRow | undefined> {
  return db
    .updateTable('challenge_codes')
    .set({ attempts: sql`attempts + 1` })
    .where('challenge_id', '=', challengeId)
    .where('method', '=', method)
    .where('used_at', 'is', null)
    .where('attempts', '<', maxAttempts)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

/** Uses a code up, only if it is still the one compared (not replaced by a resend, not used). */
export async function useCode(db: Kysely<DB>, row: ChallengeCodeRow, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('challenge_codes')
    .set({ used_at: now })
    .where('challenge_id', '=', row.challenge_id)
    .where('method', '=', row.method)
    .where('code_hash', '=', row.code_hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Whether a challenge of this account, purpose and reason has passed (recovery ties one to a reset link). */
export async function hasPassed(db: Kysely<DB>, accountId: string, purpose: ChallengePurpose, reason: string): Promise<boolean> {
  const row = await db
    .selectFrom('challenges')
    .select('id')
    .where('account_id', '=', accountId)
    .where('purpose', '=', purpose)
    .where('reason', '=', reason)
    .where('status', '=', 'passed')
    .executeTakeFirst();
  return !!row;
}
