import { sql, type Kysely } from 'kysely';
import type { AccountRow, AccountUpdate, DB, NewAccount } from '../platform/db/schema.js';
import { anotherAdminRemains } from '../admin/queries.js';
import { normalizeEmail } from './rules.js';

export async function insertAccount(db: Kysely<DB>, account: NewAccount): Promise<AccountRow> {
  return db.insertInto('accounts').values(account).returningAll().executeTakeFirstOrThrow();
}

export async function findAccountById(db: Kysely<DB>, id: string): Promise<AccountRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A live account by username or e-mail, case-insensitively. */
export async function findLiveAccountByLogin(db: Kysely<DB>, login: string): Promise<AccountRow | undefined> {
  // Read the way sign-up stored the e-mail (NFC), so an é typed either way matches.
  const lowered = normalizeEmail(login).toLowerCase();
  const column = lowered.includes('@') ? 'email' : 'username';
  return db
    .selectFrom('accounts')
    .selectAll()
    .where(sql`lower(${sql.ref(column)})`, '=', lowered)
    .where('status', '<>', 'closed')
    .executeTakeFirst();
}

export async function emailInUse(db: Kysely<DB>, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('accounts')
    .select('id')
    .where(sql`lower(email)`, '=', email.toLowerCase())
    .where('status', '<>', 'closed')
    .executeTakeFirst();
  return !!row;
}

export async function usernameInUse(db: Kysely<DB>, username: string): Promise<boolean> {
  const row = await db.selectFrom('accounts').select('id').where(sql`lower(username)`, '=', username.toLowerCase()).executeTakeFirst();
  return !!row;
}

export async function updateAccount(db: Kysely<DB>, id: string, changes: AccountUpdate): Promise<AccountRow> {
  return db.updateTable('accounts').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/**
 * Closes an account in one statement, unless it is the last administrator's (then nothing
 * changes and false is returned): the staff rule decides inside the UPDATE, not before it.
 */
export async function closeAccountUnlessLastAdmin(db: Kysely<DB>, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('accounts')
    .set({ status: 'closed', closed_at: now, updated_at: now })
    .where('id', '=', id)
    .where(sql<boolean>`(NOT EXISTS (SELECT 1 FROM staff_roles WHERE account_id = ${id} AND role = 'admin') OR ${anotherAdminRemains(id)})`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Active → locked, conditionally: a closed account stays closed, a locked one is left as it is. */
export async function lockAccount(db: Kysely<DB>, id: string, now: Date): Promise<AccountRow | undefined> {
  return db.updateTable('accounts').set({ status: 'locked', updated_at: now }).where('id', '=', id).where('status', '=', 'active').returningAll().executeTakeFirst();
}

/** Locked → active, conditionally: an active or closed account is left as it is. */
export async function unlockAccount(db: Kysely<DB>, id: string, now: Date): Promise<AccountRow | undefined> {
  return db.updateTable('accounts').set({ status: 'active', updated_at: now }).where('id', '=', id).where('status', '=', 'locked').returningAll().executeTakeFirst();
}

export async function findBriefs(db: Kysely<DB>, ids: string[]): Promise<Array<{ id: string; username: string; email: string; status: string; created_at: Date }>> {
  if (!ids.length) return [];
  return db.selectFrom('accounts').select(['id', 'username', 'email', 'status', 'created_at']).where('id', 'in', ids).execute();
}

export async function staffRolesOf(db: Kysely<DB>, accountId: string): Promise<string[]> {
  const rows = await db.selectFrom('staff_roles').select('role').where('account_id', '=', accountId).orderBy('role').execute();
  return rows.map((r) => r.role);
}

const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids arrive from URLs; a malformed one must be "not found", not a database error. */
export function isUuid(value: string): boolean {
  return uuidRe.test(value);
}
