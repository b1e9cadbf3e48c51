import { sql, type Kysely } from 'kysely';
import type { CaseKind, CasePriority, CaseStatus, DB } from '../platform/db/schema.js';
import type { SupportCaseRow } from './queries.js';

export const CASE_KINDS = ['ticket', 'security_reset', 'compromised', 'phone_claim'] as const satisfies readonly CaseKind[];
export const CASE_PRIORITIES = ['urgent', 'high', 'normal'] as const satisfies readonly CasePriority[];
export const CASE_STATUSES = ['open', 'pending', 'solved', 'closed'] as const satisfies readonly CaseStatus[];

/** What the desk asks for. No status means the cases still to work on (open and pending). */
export interface QueueFilter {
  kind?: CaseKind | undefined;
  status?: CaseStatus | 'all' | undefined;
  priority?: CasePriority | undefined;
  /** An agent's account id, or 'none' for cases nobody has taken. */
  assignee?: string | 'none' | undefined;
  limit?: number | undefined;
}

export const QUEUE_LIMIT = 200;

/** The queue, oldest urgent case first: priority urgent > high > normal, then the oldest. */
export async function listQueue(db: Kysely<DB>, filter: QueueFilter): Promise<SupportCaseRow[]> {
  let query = db.selectFrom('support_cases').selectAll();
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.status === undefined) query = query.where('status', 'in', ['open', 'pending']);
  else if (filter.status !== 'all') query = query.where('status', '=', filter.status);
  if (filter.priority) query = query.where('priority', '=', filter.priority);
  if (filter.assignee === 'none') query = query.where('assignee_id', 'is', null);
  else if (filter.assignee) query = query.where('assignee_id', '=', filter.assignee);
  return query
    .orderBy(sql`CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END`)
    .orderBy('created_at', 'asc')
    .orderBy('id')
    .limit(Math.min(filter.limit ?? QUEUE_LIMIT, QUEUE_LIMIT))
    .execute();
}

export async function findCase(db: Kysely<DB>, id: string): Promise<SupportCaseRow | undefined> {
  return db.selectFrom('support_cases').selectAll().where('id', '=', id).executeTakeFirst();
}
