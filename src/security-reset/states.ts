import type { SecurityResetStatus } from '../platform/db/schema.js';
import type { CaseStatus } from '../platform/db/schema.js';

/**
 * The request's states and the one table of moves between them. An agent decides a request
 * in `pending_review` once: approve and deny are final; asking for more information is not
 * (the requester's answer puts it back in `pending_review`, where it is decided once more).
 */
export const transitions: Record<SecurityResetStatus, readonly SecurityResetStatus[]> = {
  pending_review: ['approved', 'denied', 'more_info_needed'],
  more_info_needed: ['pending_review'],
  approved: ['cancelled', 'completed'],
  denied: [],
  cancelled: [],
  completed: [],
};

/** How the support queue sees each state: open needs an agent; pending waits for the member. */
export const caseStatus: Record<SecurityResetStatus, CaseStatus> = {
  pending_review: 'open',
  more_info_needed: 'pending',
  approved: 'solved',
  denied: 'closed',
  cancelled: 'closed',
  completed: 'closed',
};

/** The sentence the requester reads for each state, on the status page and in e-mails. */
export const statusWords: Record<SecurityResetStatus, string> = {
  pending_review: 'Waiting for our support team to review it.',
  more_info_needed: 'Our support team needs more information from you.',
  approved: 'Approved. It takes effect after a waiting period, unless the account owner cancels it.',
  denied: 'Denied. The account stays as it was.',
  cancelled: 'Cancelled. The account stays as it was.',
  completed: 'Done. The security information was reset.',
};
