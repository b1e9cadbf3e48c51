import type { Kysely, Transaction } from 'kysely';
import type { DB, TwoStepType } from '../platform/db/schema.js';

export interface MethodRow {
  type: TwoStepType;
  added_at: Date;
}

export interface MethodRowWithSuspension extends MethodRow {
  /** Set while a lock for compromise holds the method back (suspension.ts). */
  suspended_at: Date | null;
}

/**
 * Locks the account's row for the rest of the transaction, so two changes to one account's
 * two-step settings run one after the other and each sees what the other did ("was 2SV on
 * before this change?" is then a fact, not a guess).
 */
export async function lockAccount(trx: Transaction<DB>, accountId: string): Promise<void> {
  await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst();
}

/**
 * The account's usable methods, oldest first: what 2SV, challenges and the phone's removal
 * guard count. SMS and voice count only while a phone is verified; a suspended method (held
 * back after a lock for compromise) counts only once confirmed.
 */
export async function listMethods(db: Kysely<DB>, accountId: string): Promise<MethodRow[]> {
  const rows = await listMethodsWithSuspension(db, accountId);
  return rows.filter((r) => r.suspended_at === null).map(({ type, added_at }) => ({ type, added_at }));
}

/** Every method the account has set up, suspended ones too (the settings show them to confirm or remove). */
export async function listMethodsWithSuspension(db: Kysely<DB>, accountId: string): Promise<MethodRowWithSuspension[]> {
  return db
    .selectFrom('two_step_methods as m')
    .leftJoin('phone_numbers as p', 'p.account_id', 'm.account_id')
    .select(['m.type', 'm.added_at', 'm.suspended_at'])
    .where('m.account_id', '=', accountId)
    .where((eb) => eb.or([eb('m.type', 'not in', ['sms', 'voice']), eb('p.e164', 'is not', null)]))
    .orderBy('m.added_at')
    .orderBy('m.type')
    .execute();
}

/**
 * Turns a method on; false when it was on already (its added date stays). `replaced`: the
 * member has just set up a wholly new secret (a new app, new codes, a new answer), which
 * ends a suspension of the old one; a phone, an inbox or another passkey ends none.
 */
export async function addMethod(trx: Kysely<DB>, accountId: string, type: TwoStepType, now: Date, how: { replaced?: boolean } = {}): Promise<boolean> {
  const row = await trx
    .insertInto('two_step_methods')
    .values({ account_id: accountId, type, added_at: now })
    .onConflict((oc) => oc.columns(['account_id', 'type']).doNothing())
    .returning('type')
    .executeTakeFirst();
  if (row === undefined && how.replaced) {
    await trx.updateTable('two_step_methods').set({ suspended_at: null }).where('account_id', '=', accountId).where('type', '=', type).execute();
  }
  return row !== undefined;
}

/** Suspends these methods where they are not suspended already; returns those it suspended. */
export async function suspendMethods(trx: Kysely<DB>, accountId: string, types: TwoStepType[], now: Date): Promise<TwoStepType[]> {
  if (types.length === 0) return [];
  const rows = await trx
    .updateTable('two_step_methods')
    .set({ suspended_at: now })
    .where('account_id', '=', accountId)
    .where('type', 'in', types)
    .where('suspended_at', 'is', null)
    .returning('type')
    .execute();
  return rows.map((r) => r.type);
}

/** Ends one method's suspension; false when it was not suspended (a conditional update: two confirmations, one wins). */
export async function unsuspendMethod(trx: Kysely<DB>, accountId: string, type: TwoStepType): Promise<boolean> {
  const row = await trx
    .updateTable('two_step_methods')
    .set({ suspended_at: null })
    .where('account_id', '=', accountId)
    .where('type', '=', type)
    .where('suspended_at', 'is not', null)
    .returning('type')
    .executeTakeFirst();
  return row !== undefined;
}

/** Turns a method off; false when it was not on. */
export async function removeMethod(trx: Kysely<DB>, accountId: string, type: TwoStepType): Promise<boolean> {
  const rows = await trx.deleteFrom('two_step_methods').where('account_id', '=', accountId).where('type', '=', type).returning('type').execute();
  return rows.length > 0;
}
