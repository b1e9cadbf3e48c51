import type { AccountBrief } from '../accounts/service.js';
import type { AuditLogEntry } from '../platform/audit.js';
import type { SupportCaseRow } from '../support/queries.js';
import { describeDevice } from '../sessions/device.js';
import type { SessionView } from '../sessions/service.js';
import type { TwoStepOverview } from '../twostep/service.js';

/**
 * The account's security history as agents see it (GET /v1/agent/accounts/{id}). Every field
 * is picked by name from what the other domains' services return, so nothing secret (a
 * password hash, a TOTP secret, a code or token hash) can ride along by accident.
 */

/** Audit detail keys that say what happened without any secret in them. */
const SAFE_DETAILS = ['number', 'previous', 'channel', 'type', 'reason', 'via', 'from', 'to', 'caseId', 'source', 'sessionsEnded', 'method', 'country', 'count', 'role', 'by', 'name', 'purpose'] as const;

export function safeDetails(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SAFE_DETAILS) {
    const value = details[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value;
  }
  return out;
}

export interface SignInEntry {
  at: string;
  ip: string | null;
  country: string | null;
  browser: string;
  method: string | null;
}

export function signInEntries(records: AuditLogEntry[]): SignInEntry[] {
  return records.map((r) => ({
    at: r.createdAt.toISOString(),
    ip: r.ip,
    country: typeof r.details.country === 'string' ? r.details.country : null,
    browser: describeDevice(r.userAgent),
    method: typeof r.details.method === 'string' ? r.details.method : null,
  }));
}

export interface ChangeEntry {
  at: string;
  event: string;
  /** Who did it: the member themselves, or a staff member's account id. */
  actorId: string | null;
  byStaff: boolean;
  ip: string | null;
  details: Record<string, unknown>;
}

export function changeEntries(records: AuditLogEntry[]): ChangeEntry[] {
  return records.map((r) => ({
    at: r.createdAt.toISOString(),
    event: r.event,
    actorId: r.actorId,
    byStaff: r.actorId !== null && r.actorId !== r.accountId,
    ip: r.ip,
    details: safeDetails(r.details),
  }));
}

export interface CaseEntry {
  id: string;
  kind: string;
  priority: string;
  status: string;
  source: string;
  createdAt: string;
}

export function caseEntries(rows: SupportCaseRow[]): CaseEntry[] {
  return rows.map((c) => ({ id: c.id, kind: c.kind, priority: c.priority, status: c.status, source: c.source, createdAt: c.created_at.toISOString() }));
}

export interface TwoStepEntry {
  type: string;
  addedAt: string;
  /** Passkeys: the names the member gave them. */
  names?: string[];
  /** Backup codes: how many are left (never the codes). */
  remaining?: number;
  /** Held back after a lock for compromise until the member or an agent confirms it. */
  suspended: boolean;
}

export function twoStepEntries(overview: TwoStepOverview): { enabled: boolean; methods: TwoStepEntry[] } {
  return {
    enabled: overview.enabled,
    methods: overview.methods.map((m) => ({
      type: m.type,
      addedAt: m.addedAt,
      ...(m.type === 'passkey' ? { names: overview.passkeys.map((p) => p.name) } : {}),
      ...(m.remaining !== undefined ? { remaining: m.remaining } : {}),
      suspended: m.suspended,
    })),
  };
}

export function sessionEntries(sessions: SessionView[]) {
  return sessions.map((s) => ({ id: s.id, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, ip: s.ip, browser: describeDevice(s.userAgent) }));
}

export function briefView(brief: AccountBrief | undefined) {
  return brief ? { id: brief.id, username: brief.username } : undefined;
}
