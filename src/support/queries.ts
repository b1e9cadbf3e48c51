import type { Kysely } from 'kysely';
import type { DB, SupportCasesTable } from '../platform/db/schema.js';
import type { Insertable, Selectable, Updateable } from 'kysely';

export type SupportCaseRow = Selectable<SupportCasesTable>;

export async function insertCase(db: Kysely<DB>, row: Insertable<SupportCasesTable>): Promise<SupportCaseRow> {
  return db.insertInto('support_cases').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findCase(db: Kysely<DB>, id: string): Promise<SupportCaseRow | undefined> {
  return db.selectFrom('support_cases').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateCase(db: Kysely<DB>, id: string, changes: Updateable<SupportCasesTable>): Promise<void> {
  await db.updateTable('support_cases').set(changes).where('id', '=', id).execute();
}

export async function casesOfAccount(db: Kysely<DB>, accountId: string): Promise<SupportCaseRow[]> {
  return db.selectFrom('support_cases').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').execute();
}
