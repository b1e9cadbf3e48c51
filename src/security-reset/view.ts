import type { SecurityResetStatus } from '../platform/db/schema.js';
import type { NoteRow, ResetRow } from './queries.js';

export interface StatusView {
  requestId: string;
  status: SecurityResetStatus;
  effectiveAt?: string;
  createdAt: string;
  /** What the requester wrote, what the agent answered, and what happened, oldest first. */
  messages: Array<{ from: 'agent' | 'you' | 'verity'; kind: string; body: string; at: string }>;
}

/** The requester's view: never the agent's name, the account, or anything about its owner. */
export function toStatusView(row: ResetRow, notes: NoteRow[]): StatusView {
  return {
    requestId: row.case_id,
    status: row.status,
    ...(row.effective_at && (row.status === 'approved' || row.status === 'completed') ? { effectiveAt: row.effective_at.toISOString() } : {}),
    createdAt: row.created_at.toISOString(),
    messages: notes.map((n) => ({ from: n.author === 'agent' ? 'agent' : n.author === 'requester' ? 'you' : 'verity', kind: n.kind, body: n.body, at: n.created_at.toISOString() })),
  };
}
