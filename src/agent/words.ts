import { exactUtc } from '../platform/time-words.js';

/** How the desk's pages name things. */
export const KIND_LABELS: Record<string, string> = {
  ticket: 'Ticket',
  security_reset: 'Security reset',
  compromised: 'Compromised account',
  phone_claim: 'Phone number claim',
};

export const STATUS_LABELS: Record<string, string> = { open: 'Open', pending: 'Pending', solved: 'Solved', closed: 'Closed' };
export const PRIORITY_LABELS: Record<string, string> = { urgent: 'Urgent', high: 'High', normal: 'Normal' };

/** "2026-12-01 16:30 UTC" from an ISO time, for tables. */
export function at(iso: string | null | undefined): string {
  return iso ? exactUtc(new Date(iso)) : '';
}

/** What the helpers the desk templates use. */
export const words = { kinds: KIND_LABELS, statuses: STATUS_LABELS, priorities: PRIORITY_LABELS, at };
