import type { AccountBrief, AccountService } from '../accounts/service.js';
import type { AdminService } from '../admin/service.js';
import type { PhoneService } from '../phone/service.js';
import { DORMANT_AFTER_DAYS } from '../phone/claims.js';
import { auditOf, recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds, type Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/database.js';
import type { Kysely } from 'kysely';
import type { CaseStatus, DB, TwoStepType } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { SessionService } from '../sessions/service.js';
import type { SupportCaseRow } from '../support/queries.js';
import type { QueueFilter } from '../support/queue.js';
import type { SupportService } from '../support/service.js';
import type { TwoStepService } from '../twostep/service.js';
import { briefView, caseEntries, changeEntries, sessionEntries, signInEntries, twoStepEntries } from './history.js';

export interface AgentDeps {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  publicUrl: string;
  accounts: AccountService;
  sessions: SessionService;
  twoStep: TwoStepService;
  phone: PhoneService;
  admin: AdminService;
  support: SupportService;
}

/** Where each kind of case is worked on: tickets and resets have pages of their own. */
export const CASE_PAGES: Record<string, string> = {
  ticket: '/agent/tickets/',
  security_reset: '/agent/security-resets/',
  compromised: '/agent/cases/',
  phone_claim: '/agent/cases/',
};

/** Kinds whose status the desk sets directly (tickets: PATCH /v1/agent/tickets; resets: decisions). */
const STATUS_KINDS = new Set(['compromised', 'phone_claim']);

const HISTORY_LIMIT = 50;

/**
 * The agents' desk: the queue of every case, work on a case (assignment, notes, status),
 * an account's security history, lock and unlock, and releasing a recycled number. It asks
 * the other domains' services; every action is audited with the agent as the actor.
 */
export class AgentService {
  constructor(private readonly deps: AgentDeps) {}

  async queue(filter: QueueFilter) {
    const rows = await this.deps.support.desk.queue(filter);
    const briefs = await this.deps.accounts.briefs(rows.flatMap((r) => [r.account_id, r.assignee_id]).filter((id): id is string => !!id));
    return rows.map((r) => this.caseView(r, briefs));
  }

  async caseDetail(caseId: string) {
    const row = await this.deps.support.desk.get(caseId);
    const notes = await this.deps.support.desk.notes(caseId);
    const claim = row.kind === 'phone_claim' ? await this.deps.phone.claims.forCase(caseId) : undefined;
    const ids = [row.account_id, row.assignee_id, claim?.holderId, ...notes.map((n) => n.author_id)].filter((id): id is string => !!id);
    const briefs = await this.deps.accounts.briefs(ids);
    const holder = claim?.holderId ? await this.dormancy(claim.holderId) : undefined;
    return {
      ...this.caseView(row, briefs),
      login: row.login,
      contactEmail: row.contact_email,
      details: row.details,
      source: row.source,
      updatedAt: row.updated_at.toISOString(),
      page: CASE_PAGES[row.kind] + row.id,
      statusSettable: STATUS_KINDS.has(row.kind),
      notes: notes.map((n) => ({ id: n.id, note: n.body, author: briefView(briefs.get(n.author_id)) ?? { id: n.author_id, username: 'unknown' }, createdAt: n.created_at.toISOString() })),
      ...(claim
        ? {
            claim: {
              phone: claim.phone,
              status: claim.status,
              provenAt: claim.provenAt,
              holder: claim.holderId ? { ...briefView(briefs.get(claim.holderId)), ...holder } : null,
            },
          }
        : {}),
    };
  }

  /** `to`: 'me', 'none' or a staff member's account id. */
  async assign(caseId: string, to: string, agentId: string, meta: RequestMeta) {
    const assignee = to === 'me' ? agentId : to === 'none' ? null : to;
    if (assignee && assignee !== agentId && !(await this.deps.admin.staffRoles(assignee).catch(() => [])).length) {
      throw new AppError('invalid_request', { detail: 'Cases can only be given to agents.', extra: { errors: [{ path: '/assigneeId', message: 'Choose an agent.' }] } });
    }
    await this.deps.support.desk.assign(caseId, assignee, agentId, meta);
    return this.caseDetail(caseId);
  }

  async addNote(caseId: string, note: string, agentId: string, meta: RequestMeta) {
    const trimmed = note.trim();
    if (!trimmed) throw new AppError('invalid_request', { detail: 'Write a note first.', extra: { errors: [{ path: '/note', message: 'Write a note first.' }] } });
    const row = await this.deps.support.desk.addNote(caseId, trimmed, agentId, meta);
    const author = briefView((await this.deps.accounts.briefs([agentId])).get(agentId));
    return { id: row.id, note: row.body, author, createdAt: row.created_at.toISOString() };
  }

  async setStatus(caseId: string, status: CaseStatus, agentId: string, meta: RequestMeta) {
    const row = await this.deps.support.desk.get(caseId);
    if (!STATUS_KINDS.has(row.kind)) {
      throw new AppError('wrong_case_kind', {
        detail: row.kind === 'ticket' ? 'Change the status of a ticket on its ticket page (PATCH /v1/agent/tickets/{id}).' : 'A security reset moves by its decision, not by a status change.',
      });
    }
    await this.deps.support.desk.setStatus(caseId, status, agentId, meta);
    // A claim closed without a release is over: the member may file a new one.
    if (row.kind === 'phone_claim' && (status === 'solved' || status === 'closed')) await this.deps.phone.claims.dismiss(caseId);
    return this.caseDetail(caseId);
  }

  /** Frees a recycled number from a dormant holding account; the case is solved by it. */
  async releaseNumber(caseId: string, agentId: string, meta: RequestMeta) {
    const row = await this.deps.support.desk.get(caseId);
    if (row.kind !== 'phone_claim') throw new AppError('wrong_case_kind', { detail: 'Only a claim of a phone number can release one.' });
    await this.deps.phone.claims.release(caseId, agentId, meta, async (trx, holderId) => (await this.dormancy(holderId, trx)).dormant);
    await this.deps.support.desk.setStatus(caseId, 'solved', agentId, meta).catch((error: unknown) => {
      if (!(error instanceof AppError && error.code === 'status_change_refused')) throw error;
    });
    return this.caseDetail(caseId);
  }

  /** Dormant: no sign-in and no use of a session for DORMANT_AFTER_DAYS (phone/claims.ts). */
  async dormancy(accountId: string, trx?: Kysely<DB>): Promise<{ lastActiveAt: string | null; dormant: boolean }> {
    const last = await this.deps.sessions.lastActiveAt(accountId, trx);
    const cutoff = addSeconds(this.deps.clock.now(), -DORMANT_AFTER_DAYS * 24 * 60 * 60);
    return { lastActiveAt: last?.toISOString() ?? null, dormant: !last || last < cutoff };
  }

  /** An account with its security history; the look itself is audited (who read whose history). */
  async accountHistory(accountId: string, agentId: string, meta: RequestMeta) {
    const { accounts, sessions, twoStep, phone, support, db, clock } = this.deps;
    const account = await accounts.get(accountId);
    const now = clock.now();
    const [roles, signIns, changes, live, overview, number, cases, activity] = await Promise.all([
      this.deps.admin.staffRoles(account.id),
      auditOf(db, account.id, { limit: HISTORY_LIMIT, events: ['signin.succeeded'] }),
      auditOf(db, account.id, { limit: HISTORY_LIMIT, except: ['signin.succeeded', 'challenge.', 'agent.'] }),
      sessions.list(account.id, ''),
      twoStep.overview(account.id),
      phone.verifiedPhone(account.id),
      support.casesOf(account.id),
      this.dormancy(account.id),
    ]);
    await recordAudit(db, now, { event: 'agent.account_viewed', accountId: account.id, actorId: agentId, meta });
    const entries = changeEntries(changes);
    const staffNames = await accounts.briefs(entries.filter((c) => c.byStaff && c.actorId).map((c) => c.actorId!));
    return {
      account: {
        id: account.id,
        username: account.username,
        email: account.email,
        emailVerified: account.email_verified_at !== null,
        fullName: account.full_name,
        country: account.country,
        roles: account.roles,
        staffRoles: roles,
        status: account.status,
        createdAt: account.created_at.toISOString(),
        ageDays: Math.floor((now.getTime() - account.created_at.getTime()) / 86_400_000),
      },
      phone: number,
      twoStep: twoStepEntries(overview),
      signIns: signInEntries(signIns),
      changes: entries.map((c) => (c.byStaff && c.actorId ? { ...c, actorName: staffNames.get(c.actorId)?.username ?? null } : c)),
      sessions: sessionEntries(live),
      lastActiveAt: activity.lastActiveAt,
      dormant: activity.dormant,
      cases: caseEntries(cases),
      openCompromiseReports: caseEntries(cases.filter((c) => c.kind === 'compromised' && (c.status === 'open' || c.status === 'pending'))),
    };
  }

  /** The same lock as "this wasn't me": sessions end, sign-in answers 423 until a reset or an unlock. */
  async lock(accountId: string, reason: string, agentId: string, meta: RequestMeta): Promise<{ status: string }> {
    const { accounts, db, outbox, publicUrl } = this.deps;
    // Read before the transaction (PGlite has one connection): it only decides whether to e-mail.
    const before = await accounts.get(accountId);
    const status = await db.transaction().execute(async (trx) => {
      const account = await accounts.lockForProtection(trx, accountId, meta, 'agent', agentId);
      if (!account) throw new AppError('not_found');
      await recordAudit(trx, this.deps.clock.now(), { event: 'agent.account_locked', accountId, actorId: agentId, meta, details: { reason } });
      if (before.status === 'active' && account.status === 'locked') {
        await outbox.enqueue(trx, { channel: 'email', to: account.email, template: 'account-locked-by-support', data: { username: account.username, link: `${publicUrl}/recover/password`, supportLink: `${publicUrl}/support/contact` } });
      }
      return account.status;
    });
    outbox.wake();
    return { status };
  }

  async unlock(accountId: string, reason: string, agentId: string, meta: RequestMeta): Promise<{ status: string }> {
    const { accounts, db } = this.deps;
    await accounts.get(accountId);
    const status = await db.transaction().execute(async (trx) => {
      const account = await accounts.unlockByStaff(trx, accountId, agentId, reason, meta);
      if (!account) throw new AppError('not_found');
      await recordAudit(trx, this.deps.clock.now(), { event: 'agent.account_unlocked', accountId, actorId: agentId, meta, details: { reason } });
      return account.status;
    });
    return { status };
  }

  /**
   * Lifts the suspension that a compromise lock put on a recently added 2SV method, once the
   * agent has checked with the member that the method is theirs (issue 13: "until an agent or
   * the member confirms them"). The twostep domain audits it with the agent as actor and
   * e-mails the member; the reason is kept here.
   */
  async confirmTwoStep(accountId: string, type: TwoStepType, reason: string, agentId: string, meta: RequestMeta): Promise<{ status: 'confirmed' }> {
    await this.deps.accounts.get(accountId);
    await this.deps.twoStep.confirmSuspended(accountId, type, { kind: 'agent', agentId, meta });
    await recordAudit(this.deps.db, this.deps.clock.now(), { event: 'agent.two_step_confirmed', accountId, actorId: agentId, meta, details: { type, reason } });
    return { status: 'confirmed' };
  }

  /** Staff members a case can be given to. */
  async agents(): Promise<Array<{ id: string; username: string }>> {
    const staff = await this.deps.admin.listStaff();
    const seen = new Map<string, string>();
    for (const s of staff) seen.set(s.accountId, s.username);
    return [...seen].map(([id, username]) => ({ id, username }));
  }

  private caseView(row: SupportCaseRow, briefs: Map<string, AccountBrief>) {
    const account = row.account_id ? briefView(briefs.get(row.account_id)) : undefined;
    const assignee = row.assignee_id ? briefView(briefs.get(row.assignee_id)) : undefined;
    return {
      id: row.id,
      kind: row.kind,
      priority: row.priority,
      status: row.status,
      createdAt: row.created_at.toISOString(),
      ...(account ? { account } : {}),
      ...(assignee ? { assignee } : {}),
    };
  }
}
