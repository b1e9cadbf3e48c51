import type { Kysely } from 'kysely';
import type { CaseStatus, DB } from '../platform/db/schema.js';
import type { SupportCaseRow } from './queries.js';
import { reachableFrom } from './case-status.js';

/**
 * Gives a case to an agent (or to nobody), returning who had it before. The row is locked
 * first, so two agents taking the same case at once are recorded one after the other.
 */
export async function setAssignee(trx: Kysely<DB>, caseId: string, assigneeId: string | null, now: Date): Promise<{ before: string | null; row: SupportCaseRow } | undefined> {
  const current = await trx.selectFrom('support_cases').select('assignee_id').where('id', '=', caseId).forUpdate().executeTakeFirst();
  if (!current) return undefined;
  const row = await trx.updateTable('support_cases').set({ assignee_id: assigneeId, updated_at: now }).where('id', '=', caseId).returningAll().executeTakeFirstOrThrow();
  return { before: current.assignee_id, row };
}

/** Moves a case to `to` only from a status that allows it (case-status.ts); undefined when it did not move. */
export async function moveStatus(trx: Kysely<DB>, caseId: string, to: CaseStatus, now: Date): Promise<SupportCaseRow | undefined> {
  return trx
    .updateTable('support_cases')
    .set({ status: to, updated_at: now })
    .where('id', '=', caseId)
    .where('status', 'in', reachableFrom(to))
    .returningAll()
    .executeTakeFirst();
}
