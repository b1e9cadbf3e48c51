import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { DB, PhoneNumberRow, PhoneVerificationRow, PhoneVerificationsTable } from '../platform/db/schema.js';
import type { FinalStatus } from './state.js';

export async function findVerifiedPhone(db: Kysely<DB>, accountId: string): Promise<PhoneNumberRow | undefined> {
  return db.selectFrom('phone_numbers').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

/**
 * The live account holding a line, by its subscriber key (src/phone/subscriber.ts), if any
 * (closed accounts hold none).
 */
export async function findHolder(db: Kysely<DB>, subscriber: string): Promise<string | undefined> {
  const row = await db.selectFrom('phone_numbers').select('account_id').where('subscriber', '=', subscriber).executeTakeFirst();
  return row?.account_id;
}

export async function findPending(db: Kysely<DB>, accountId: string): Promise<PhoneVerificationRow | undefined> {
  return db.selectFrom('phone_verifications').selectAll().where('account_id', '=', accountId).where('status', '=', 'pending').executeTakeFirst();
}

/**
 * Locks the account's row until the transaction ends, so two starts for one account run one
 * after the other. Locking the pending verification is not enough: when none exists yet,
 * FOR UPDATE finds no row to lock and both starts insert. NO KEY UPDATE still lets other
 * tables' rows that reference the account be written meanwhile.
 */
export async function lockAccountForPhone(trx: Transaction<DB>, accountId: string): Promise<void> {
  await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forNoKeyUpdate().executeTakeFirst();
}

/**
 * The account's latest verification of one number, in any state: its resend cooldown and
 * streak hold for that number even after another number replaced it.
 */
export async function lastVerificationOf(db: Kysely<DB>, accountId: string, e164: string): Promise<PhoneVerificationRow | undefined> {
  return db
    .selectFrom('phone_verifications')
    .selectAll()
    .where('e164', '=', e164)
    .where('account_id', '=', accountId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The pending verification, locked until the transaction ends (start and resend serialize on it). */
export async function lockPending(trx: Transaction<DB>, accountId: string): Promise<PhoneVerificationRow | undefined> {
  return trx
    .selectFrom('phone_verifications')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('status', '=', 'pending')
    .forUpdate()
    .executeTakeFirst();
}

export async function insertVerification(trx: Transaction<DB>, row: Insertable<PhoneVerificationsTable>): Promise<PhoneVerificationRow> {
  return trx.insertInto('phone_verifications').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Moves a pending verification to a final state; false when it was no longer pending. */
export async function finish(
  db: Kysely<DB>,
  id: string,
  status: FinalStatus,
  now: Date,
  onlyIfCodeHash?: string,
): Promise<boolean> {
  let query = db.updateTable('phone_verifications').set({ status, finished_at: now }).where('id', '=', id).where('status', '=', 'pending');
  if (onlyIfCodeHash) query = query.where('code_hash', '=', onlyIfCodeHash);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function cancelPending(db: Kysely<DB>, accountId: string, now: Date): Promise<void> {
  await db
    .updateTable('phone_verifications')
    .set({ status: 'cancelled', finished_at: now })
    .where('account_id', '=', accountId)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * Counts one try at the code BEFORE it is compared. The conditions make the cap hard even
 * under concurrent requests: a code that is used up, expired or out of tries gets no row back.
 */
export async function countAttempt(db: Kysely<DB>, accountId: string, maxAttempts: number, now: Date): Promise<PhoneVerificationRow | undefined> {
  return db
    .updateTable('phone_verifications')
    .set({ attempts: sql`attempts + 1` })
    .where('account_id', '=', accountId)
    .where('status', '=', 'pending')
    .where('attempts', '<', maxAttempts)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

/** Replaces the code of a pending verification (resend), if its cooldown is over and sends remain. */
export async function replaceCode(
  trx: Transaction<DB>,
  id: string,
  now: Date,
  maxSends: number,
  changes: { code_hash: string; channel: 'sms' | 'voice'; outbox_id: string; expires_at: Date; resend_after: Date },
): Promise<PhoneVerificationRow | undefined> {
  return trx
    .updateTable('phone_verifications')
    .set({ ...changes, attempts: 0, sends: sql`sends + 1`, streak: sql`streak + 1`, sent_at: now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('sends', '<', maxSends)
    .where('resend_after', '<=', now)
    .returningAll()
    .executeTakeFirst();
}

/** The unique indexes that refuse a line another live account holds (by string, by subscriber). */
export const HELD_ELSEWHERE = ['phone_numbers_e164_key', 'phone_numbers_subscriber_key'] as const;

/**
 * Puts a verified number on the account (replacing its previous one). The unique indexes
 * HELD_ELSEWHERE refuse a line another live account holds, in either of its forms: the race
 * between two accounts verifying one line is settled here, by the database.
 */
export async function saveVerifiedPhone(trx: Transaction<DB>, row: PhoneNumberRow & { subscriber: string }): Promise<void> {
  const { account_id: _, ...changes } = row;
  await trx
    .insertInto('phone_numbers')
    .values(row)
    .onConflict((oc) => oc.column('account_id').doUpdateSet(changes))
    .execute();
}

export async function deleteVerifiedPhone(db: Kysely<DB>, accountId: string): Promise<PhoneNumberRow | undefined> {
  return db.deleteFrom('phone_numbers').where('account_id', '=', accountId).returningAll().executeTakeFirst();
}

/** Carrier lookups younger than `since`, per number. */
export async function findCachedLookup(db: Kysely<DB>, e164: string, since: Date) {
  return db.selectFrom('phone_lookups').selectAll().where('e164', '=', e164).where('looked_up_at', '>', since).executeTakeFirst();
}

export async function saveLookup(db: Kysely<DB>, row: { e164: string; line_type: string | null; carrier_name: string | null; looked_up_at: Date }): Promise<void> {
  await db
    .insertInto('phone_lookups')
    .values(row)
    .onConflict((oc) => oc.column('e164').doUpdateSet({ line_type: row.line_type, carrier_name: row.carrier_name, looked_up_at: row.looked_up_at }))
    .execute();
}
