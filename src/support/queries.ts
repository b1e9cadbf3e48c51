import type { Kysely } from 'kysely';
import type { DB, SupportCasesTable } from '../platform/db/schema.js';
import type { Insertable, Selectable } from 'kysely';

export type SupportCaseRow = Selectable<SupportCasesTable>;

export async function insertCase(db: Kysely<DB>, row: Insertable<SupportCasesTable>): Promise<SupportCaseRow> {
  return db.insertInto('support_cases').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function casesOfAccount(db: Kysely<DB>, accountId: string): Promise<SupportCaseRow[]> {
  return db.selectFrom('support_cases').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').execute();
}
