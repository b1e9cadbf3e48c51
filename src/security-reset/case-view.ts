import { recentAudit } from '../platform/audit.js';
import { AppError } from '../platform/errors.js';
import { describeDevice } from '../sessions/device.js';
import { isUuid, type SecurityResetDeps } from './deps.js';
import * as q from './queries.js';

/**
 * What an agent sees on a reset case: the request, and beside it what the account's own
 * domains say about the account. Each comes from that domain's service; nothing here is a
 * secret (no hashes, codes, tokens or keys; the phone number only by its last two digits).
 */
export async function caseView(deps: SecurityResetDeps, caseId: string) {
  if (!isUuid(caseId)) throw new AppError('not_found');
  const row = await q.findReset(deps.db, caseId);
  const supportCase = row ? await deps.support.get(caseId) : undefined;
  if (!row || !supportCase) throw new AppError('not_found');
  const notes = await q.notesOf(deps.db, caseId);
  const request = {
    id: row.case_id,
    status: row.status,
    login: row.login,
    fullName: row.full_name,
    contactEmail: row.contact_email,
    details: supportCase.details,
    oldPhoneDigits: row.old_phone_digits,
    country: row.country,
    createdAt: row.created_at.toISOString(),
    decidedAt: row.decided_at?.toISOString() ?? null,
    decidedBy: row.decided_by ? (await deps.accounts.get(row.decided_by).catch(() => undefined))?.username ?? null : null,
    effectiveAt: row.effective_at?.toISOString() ?? null,
    cancelledVia: row.cancelled_via,
    appliedAt: row.applied_at?.toISOString() ?? null,
    notes: notes.map((n) => ({ author: n.author, kind: n.kind, body: n.body, at: n.created_at.toISOString() })),
  };
  if (!row.account_id) return { request, lookedUp: row.matched_at !== null, account: null, matches: null, earlierRequests: [], compromiseReports: [] };

  const accountId = row.account_id;
  const account = await deps.accounts.get(accountId);
  const now = deps.clock.now();
  const phone = await deps.phone.verifiedNumber(accountId);
  const digits = row.old_phone_digits;
  const cases = await deps.support.casesOf(accountId);
  const changes = await recentAudit(deps.db, accountId, { exceptEvents: ['signin.succeeded', 'challenge.sent', 'challenge.passed', 'challenge.failed'], limit: 20 });
  return {
    request,
    lookedUp: true,
    account: {
      id: account.id,
      username: account.username,
      email: account.email,
      fullName: account.full_name,
      country: account.country,
      status: account.status,
      createdAt: account.created_at.toISOString(),
      ageDays: Math.floor((now.getTime() - account.created_at.getTime()) / 86_400_000),
      phoneEnding: phone ? phone.slice(-2) : null,
      twoStep: await deps.twoStep.staffSummary(accountId),
      signIns: await deps.sessions.recentSignIns(accountId, 10),
      changes: changes.map((c) => ({ event: c.event, at: c.at.toISOString(), ip: c.ip, country: c.country, device: c.userAgent ? describeDevice(c.userAgent) : null, by: c.actorId !== null && c.actorId !== accountId ? 'staff' : REQUESTER_EVENTS.has(c.event) ? 'requester' : 'member' })),
    },
    matches: {
      contactEmail: row.contact_email.toLowerCase() === account.email.toLowerCase(),
      fullName: account.full_name ? norm(account.full_name) === norm(row.full_name) : null,
      phoneDigits: digits && phone ? phone.endsWith(digits) : null,
      country: row.country ? row.country === account.country : null,
    },
    earlierRequests: (await q.resetsOfAccount(deps.db, accountId))
      .filter((r) => r.case_id !== caseId)
      .map((r) => ({ id: r.case_id, status: r.status, createdAt: r.created_at.toISOString() })),
    compromiseReports: cases
      .filter((c) => c.kind === 'compromised' && (c.status === 'open' || c.status === 'pending'))
      .map((c) => ({ id: c.id, priority: c.priority, source: c.source, createdAt: c.created_at.toISOString() })),
  };
}

/** Events a reset requester causes (the audit names the account as actor when nobody signed in did it). */
const REQUESTER_EVENTS = new Set(['security_reset.requested', 'security_reset.info_added', 'security_reset.link_resent']);

export type CaseView = Awaited<ReturnType<typeof caseView>>;

function norm(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}
