import type { Static } from 'typebox';
import type { CaseKind, CasePriority, CaseStatus } from '../platform/db/schema.js';
import type { QueueFilter } from '../support/queue.js';
import type { QueueQuery } from './schemas.js';

/** The queue's query (API or the page's GET form) as a filter; blanks mean "any". */
export function queueFilter(query: Static<typeof QueueQuery>, agentId: string): QueueFilter {
  const assignee = query.assignee?.trim();
  return {
    kind: (query.kind || undefined) as CaseKind | undefined,
    status: (query.status || undefined) as CaseStatus | 'all' | undefined,
    priority: (query.priority || undefined) as CasePriority | undefined,
    assignee: assignee === 'me' ? agentId : assignee || undefined,
  };
}
