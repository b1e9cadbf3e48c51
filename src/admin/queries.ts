import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../platform/db/schema.js';

/**
 * The one rule that keeps the service administrable: some account other than `accountId`
 * holds the admin role and is not closed. It is used inside the statement that would
 * remove an admin (revoking the role, closing the account), so the check and the change are
 * one statement. The admin rows and their accounts are locked (FOR UPDATE, in id order):
 * two removals at once queue on the same first row, and the second, once the first has
 * committed, re-reads the rows it waited for (a role deleted, an account now closed) and
 * finds no other admin.
 */
export function anotherAdminRemains(accountId: string): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (
    SELECT 1 FROM (
      SELECT sr.account_id FROM staff_roles sr JOIN accounts a ON a.id = sr.account_id
      WHERE sr.role = 'admin' AND a.status <> 'closed'
      ORDER BY sr.account_id
      FOR UPDATE OF sr, a
    ) AS admin
    WHERE admin.account_id <> ${accountId}
  )`;
}

/** Removes a staff role unless it is the last admin's. Returns 'removed', 'last_admin' or 'absent'. */
export async function removeStaffRole(trx: Kysely<DB>, accountId: string, role: 'agent' | 'admin'): Promise<'removed' | 'last_admin' | 'absent'> {
  let remove = trx.deleteFrom('staff_roles').where('account_id', '=', accountId).where('role', '=', role);
  if (role === 'admin') remove = remove.where(anotherAdminRemains(accountId));
  const result = await remove.executeTakeFirst();
  if (Number(result.numDeletedRows) > 0) return 'removed';
  const held = await trx.selectFrom('staff_roles').select('account_id').where('account_id', '=', accountId).where('role', '=', role).executeTakeFirst();
  return held ? 'last_admin' : 'absent';
}
