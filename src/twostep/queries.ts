import type { Kysely, Transaction } from 'kysely';
import type { DB, TwoStepType } from '../platform/db/schema.js';

export interface MethodRow {
  type: TwoStepType;
  added_at: Date;
}

/**
 * Locks the account's row for the rest of the transaction, so two changes to one account's
 * two-step settings run one after the other and each sees what the other did ("was 2SV on
 * before this change?" is then a fact, not a guess).
 */
export async function lockAccount(trx: Transaction<DB>, accountId: string): Promise<void> {
  await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst();
}

/** The account's methods, oldest first. SMS and voice count only while a phone is verified. */
export async function listMethods(db: Kysely<DB>, accountId: string): Promise<MethodRow[]> {
  return db
    .selectFrom('two_step_methods as m')
    .leftJoin('phone_numbers as p', 'p.account_id', 'm.account_id')
    .select(['m.type', 'm.added_at'])
    .where('m.account_id', '=', accountId)
    .where((eb) => eb.or([eb('m.type', 'not in', ['sms', 'voice']), eb('p.e164', 'is not', null)]))
    .orderBy('m.added_at')
    .orderBy('m.type')
    .execute();
}

/** Turns a method on; false when it was on already (its added date stays). */
export async function addMethod(trx: Kysely<DB>, accountId: string, type: TwoStepType, now: Date): Promise<boolean> {
  const row = await trx
    .insertInto('two_step_methods')
    .values({ account_id: accountId, type, added_at: now })
    .onConflict((oc) => oc.columns(['account_id', 'type']).doNothing())
    .returning('type')
    .executeTakeFirst();
  return row !== undefined;
}

/** Turns a method off; false when it was not on. */
export async function removeMethod(trx: Kysely<DB>, accountId: string, type: TwoStepType): Promise<boolean> {
  const rows = await trx.deleteFrom('two_step_methods').where('account_id', '=', accountId).where('type', '=', type).returning('type').execute();
  return rows.length > 0;
}
