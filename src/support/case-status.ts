import type { CaseStatus } from '../platform/db/schema.js';

/**
 * Which status a case may move to from each status. A solved case reopens when there is more
 * to do; a closed one is done, and only reopening it (an agent closed it too early) moves it.
 */
export const STATUS_CHANGES: Readonly<Record<CaseStatus, readonly CaseStatus[]>> = {
  open: ['pending', 'solved', 'closed'],
  pending: ['open', 'solved', 'closed'],
  solved: ['open', 'closed'],
  closed: ['open'],
};

/** The statuses from which `to` can be reached, for the conditional UPDATE. */
export function reachableFrom(to: CaseStatus): CaseStatus[] {
  return (Object.keys(STATUS_CHANGES) as CaseStatus[]).filter((from) => STATUS_CHANGES[from].includes(to));
}
