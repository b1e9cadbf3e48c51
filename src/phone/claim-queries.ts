import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { DB, PhoneClaimsTable } from '../platform/db/schema.js';
import type { Selectable } from 'kysely';

export type PhoneClaimRow = Selectable<PhoneClaimsTable>;

export async function findPendingClaim(db: Kysely<DB>, accountId: string): Promise<PhoneClaimRow | undefined> {
  return db.selectFrom('phone_claims').selectAll().where('account_id', '=', accountId).where('status', '=', 'pending').executeTakeFirst();
}

/** The pending claim, locked: two starts by one member run one after the other. */
export async function lockPendingClaim(trx: Transaction<DB>, accountId: string): Promise<PhoneClaimRow | undefined> {
  return trx.selectFrom('phone_claims').selectAll().where('account_id', '=', accountId).where('status', '=', 'pending').forUpdate().executeTakeFirst();
}

export async function replaceClaim(trx: Transaction<DB>, id: string, now: Date): Promise<void> {
  await trx.updateTable('phone_claims').set({ status: 'replaced', finished_at: now }).where('id', '=', id).where('status', '=', 'pending').execute();
}

export async function insertClaim(trx: Transaction<DB>, row: Insertable<PhoneClaimsTable>): Promise<PhoneClaimRow> {
  return trx.insertInto('phone_claims').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Counts one try BEFORE comparing; no row back when the code is used, expired or out of tries. */
export async function countClaimAttempt(db: Kysely<DB>, accountId: string, maxAttempts: number, now: Date): Promise<PhoneClaimRow | undefined> {
  return db
    .updateTable('phone_claims')
    .set({ attempts: sql`attempts + 1` })
    .where('account_id', '=', accountId)
    .where('status', '=', 'pending')
    .where('attempts', '<', maxAttempts)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

/** Uses the code up: pending → proven, once. */
export async function markProven(trx: Transaction<DB>, id: string, codeHash: string, now: Date, holderId: string): Promise<boolean> {
  const result = await trx
    .updateTable('phone_claims')
    .set({ status: 'proven', proven_at: now, holder_id: holderId })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('code_hash', '=', codeHash)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function finishClaim(db: Kysely<DB>, id: string, status: 'released' | 'dismissed', now: Date, from: 'pending' | 'proven'): Promise<boolean> {
  const result = await db.updateTable('phone_claims').set({ status, finished_at: now }).where('id', '=', id).where('status', '=', from).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function attachCase(trx: Transaction<DB>, id: string, caseId: string): Promise<void> {
  await trx.updateTable('phone_claims').set({ case_id: caseId }).where('id', '=', id).execute();
}

export async function findClaimByCase(db: Kysely<DB>, caseId: string): Promise<PhoneClaimRow | undefined> {
  return db.selectFrom('phone_claims').selectAll().where('case_id', '=', caseId).executeTakeFirst();
}

/** The claim of a case, locked until the transaction ends (a release runs once). */
export async function lockClaimByCase(trx: Transaction<DB>, caseId: string): Promise<PhoneClaimRow | undefined> {
  return trx.selectFrom('phone_claims').selectAll().where('case_id', '=', caseId).forUpdate().executeTakeFirst();
}

export async function findProvenClaim(db: Kysely<DB>, accountId: string, subscriber: string): Promise<PhoneClaimRow | undefined> {
  return db.selectFrom('phone_claims').selectAll().where('account_id', '=', accountId).where('subscriber', '=', subscriber).where('status', '=', 'proven').executeTakeFirst();
}

/** Frees a line from the account holding it, only if that account still holds this very line. */
export async function releaseHeldLine(trx: Transaction<DB>, holderId: string, subscriber: string): Promise<{ e164: string } | undefined> {
  return trx.deleteFrom('phone_numbers').where('account_id', '=', holderId).where('subscriber', '=', subscriber).returning('e164').executeTakeFirst();
}
