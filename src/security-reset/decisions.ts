import type { Kysely } from 'kysely';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds } from '../platform/clock.js';
import { randomToken } from '../platform/crypto.js';
import type { DB, SecurityResetStatus } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { JobContext } from '../platform/jobs.js';
import { exactUtc } from '../platform/time-words.js';
import { cancelHash, isUuid, statusLink, tellRequester, type SecurityResetDeps } from './deps.js';
import * as q from './queries.js';
import type { Decision } from './schemas.js';
import { caseStatus } from './states.js';

export const APPLY_JOB = 'security_reset.apply';

interface Owner {
  id: string;
  username: string;
  email: string;
  phone: string | null;
}

const told: Record<Decision, { headline: string; message: string }> = {
  approve: { headline: 'Your security reset was approved', message: 'Our support team approved your request. For the account owner\'s safety it takes effect after a waiting period, on WHEN, unless the owner cancels it. Then we e-mail you a link to choose a new password.' },
  deny: { headline: 'Your security reset was denied', message: 'Our support team could not confirm that the account is yours, so nothing on it was changed.' },
  request_info: { headline: 'We need more information about your security reset', message: 'Our support team needs more information before deciding. Add it on the status page of your request.' },
};

/**
 * The agent's decision, the waiting period and the reset itself. Every move is one
 * conditional update (queries.ts transition), so two agents, a cancel and the job never
 * both win.
 */
export class Decisions {
  constructor(private readonly deps: SecurityResetDeps) {
    deps.jobs.register(APPLY_JOB, (payload, job) => this.apply(String(payload.caseId ?? ''), job));
  }

  private get waitSeconds(): number {
    return this.deps.waitHours * 3600;
  }

  /**
   * Approve, deny or ask for more information, once per review: a second decision is 409
   * already_decided. An approval schedules the reset and tells the account's owner.
   */
  async decide(caseId: string, agentId: string, input: { decision: Decision; note: string }, meta: RequestMeta): Promise<{ status: SecurityResetStatus; effectiveAt?: string }> {
    const { db, clock, outbox } = this.deps;
    if (!isUuid(caseId)) throw new AppError('not_found');
    const note = input.note.trim();
    if (!note) throw new AppError('invalid_request', { detail: 'Write a note for the requester.', extra: { errors: [{ path: '/note', message: 'Write a note for the requester.' }] } });
    // Read before the transaction (PGlite has one connection): who to tell of an approval.
    const before = await q.findReset(db, caseId);
    if (!before) throw new AppError('not_found');
    const owner = input.decision === 'approve' && before.account_id ? await this.owner(before.account_id) : undefined;
    const result = await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const decided = { decided_at: now, decided_by: agentId, decision_note: note, updated_at: now };
      let cancelToken: string | undefined;
      let row: q.ResetRow | undefined;
      if (input.decision === 'approve') {
        cancelToken = randomToken(this.deps.random);
        row = await q.transition(trx, caseId, 'pending_review', { ...decided, status: 'approved', effective_at: addSeconds(now, this.waitSeconds), cancel_token_hash: cancelHash(this.deps, cancelToken) }, { withAccount: true });
      } else if (input.decision === 'deny') {
        row = await q.transition(trx, caseId, 'pending_review', { ...decided, status: 'denied' });
      } else {
        row = await q.transition(trx, caseId, 'pending_review', { status: 'more_info_needed', updated_at: now });
      }
      if (!row) throw await this.whyNot(trx, caseId);
      await q.addNote(trx, { case_id: caseId, author: 'agent', kind: input.decision, body: note, actor_id: agentId, created_at: now });
      await this.deps.support.setStatus(trx, caseId, caseStatus[row.status]);
      await recordAudit(trx, now, { event: 'security_reset.decided', accountId: row.account_id, actorId: agentId, meta, details: { caseId, decision: input.decision } });
      const words = told[input.decision];
      const when = row.effective_at ? exactUtc(row.effective_at) : '';
      await tellRequester(this.deps, trx, row, { headline: words.headline, message: words.message.replace('WHEN', when), note });
      if (cancelToken && row.effective_at) {
        if (!owner || owner.id !== row.account_id) throw new AppError('reset_no_account');
        await this.schedule(trx, row, cancelToken, owner, row.effective_at);
      }
      return { status: row.status, ...(row.effective_at ? { effectiveAt: row.effective_at.toISOString() } : {}) };
    });
    outbox.wake();
    return result;
  }

  private async whyNot(trx: Kysely<DB>, caseId: string): Promise<AppError> {
    const current = await q.findReset(trx, caseId);
    if (!current) return new AppError('not_found');
    if (current.status !== 'pending_review') return new AppError('already_decided', { detail: `This request has already been decided (it is ${current.status.replace(/_/g, ' ')}).` });
    return new AppError('reset_no_account');
  }

  private async owner(accountId: string): Promise<Owner> {
    const account = await this.deps.accounts.get(accountId);
    return { id: account.id, username: account.username, email: account.email, phone: await this.deps.phone.verifiedNumber(accountId) };
  }

  /** The waiting period: the job at the effective time, and the owner told by e-mail and text. */
  private async schedule(trx: Kysely<DB>, row: q.ResetRow, cancelToken: string, owner: Owner, effectiveAt: Date): Promise<void> {
    const { jobs, outbox, publicUrl } = this.deps;
    await jobs.enqueue(trx, APPLY_JOB, { caseId: row.case_id }, effectiveAt);
    const data = { username: owner.username, when: exactUtc(effectiveAt), cancelLink: `${publicUrl}/recover/security-reset/cancel/${encodeURIComponent(cancelToken)}` };
    await outbox.enqueue(trx, { channel: 'email', to: owner.email, template: 'security-reset-scheduled', data });
    if (owner.phone) await outbox.enqueue(trx, { channel: 'sms', to: owner.phone, template: 'security-reset-scheduled', data });
  }

  /** The owner's cancel link (from the e-mail or the text): the reset never happens. */
  async cancelByLink(token: string, meta: RequestMeta): Promise<void> {
    const { db, clock, outbox } = this.deps;
    if (!token || token.length > 200) throw new AppError('token_invalid');
    const hash = cancelHash(this.deps, token);
    await db.transaction().execute(async (trx) => {
      const found = await q.findByCancelToken(trx, hash);
      if (!found) throw new AppError('token_invalid');
      const now = clock.now();
      const row = await q.transition(trx, found.case_id, 'approved', { status: 'cancelled', cancelled_at: now, cancelled_via: 'link', updated_at: now }, { cancelTokenHash: hash });
      if (!row) throw new AppError('token_invalid');
      await this.cancelled(trx, row, meta, 'link');
    });
    outbox.wake();
  }

  /** Called in the transaction of a sign-in that passed a second step: the owner still has a method. */
  async cancelBySignIn(trx: Kysely<DB>, accountId: string, meta: RequestMeta): Promise<void> {
    for (const row of await q.cancelWaiting(trx, accountId, this.deps.clock.now(), 'sign_in')) await this.cancelled(trx, row, meta, 'sign_in');
  }

  private async cancelled(trx: Kysely<DB>, row: q.ResetRow, meta: RequestMeta, via: 'link' | 'sign_in'): Promise<void> {
    const now = this.deps.clock.now();
    const why = via === 'link' ? 'The account owner cancelled the reset from the link we sent them.' : 'The account owner signed in with two-step verification, which cancels the reset.';
    await q.addNote(trx, { case_id: row.case_id, author: 'system', kind: 'cancelled', body: why, actor_id: null, created_at: now });
    await this.deps.support.setStatus(trx, row.case_id, caseStatus.cancelled);
    await recordAudit(trx, now, { event: 'security_reset.cancelled', accountId: row.account_id, meta, details: { caseId: row.case_id, via } });
    await tellRequester(this.deps, trx, row, { headline: 'Your security reset was cancelled', message: `${why} Nothing on the account was changed. If you think this is wrong, contact support.` });
  }

  /**
   * The job at the effective time: the methods go, every session ends, and the requester
   * gets a single-use link to choose a password. The job's completion commits with the
   * reset, and the reset is a conditional update: it happens once, whatever the processes.
   */
  private async apply(caseId: string, job: JobContext): Promise<void> {
    const { db, clock, outbox, twoStep, sessions, recovery } = this.deps;
    const before = await q.findReset(db, caseId);
    const owner = before?.account_id ? await this.owner(before.account_id) : undefined;
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row = await q.transition(trx, caseId, 'approved', { status: 'completed', applied_at: now, updated_at: now }, { dueBy: now });
      if (!row) {
        const current = await q.findReset(trx, caseId);
        // Run early (a clock moved back): try again later rather than drop the reset.
        if (current?.status === 'approved') throw new Error(`security reset ${caseId} is not due yet`);
        await job.complete(trx);
        return;
      }
      await job.complete(trx);
      if (!owner || owner.id !== row.account_id) throw new Error(`security reset ${caseId} has no account`);
      const accountId = owner.id;
      const removed = await twoStep.removeAll(trx, accountId);
      const sessionsEnded = await sessions.revokeAll(trx, accountId);
      const link = await recovery.resetLinkFor(trx, accountId, 'two-step');
      await q.addNote(trx, { case_id: caseId, author: 'system', kind: 'completed', body: 'The waiting period ended and the reset took effect. We e-mailed you a link to choose a new password.', actor_id: null, created_at: now });
      await this.deps.support.setStatus(trx, caseId, caseStatus.completed);
      await recordAudit(trx, now, { event: 'security_reset.applied', accountId, actorId: row.decided_by, details: { caseId, methodsRemoved: removed, sessionsEnded } });
      await outbox.enqueue(trx, { channel: 'email', to: row.contact_email, template: 'security-reset-ready', data: { fullName: row.full_name, link, statusLink: statusLink(this.deps, row) } });
      await outbox.enqueue(trx, { channel: 'email', to: owner.email, template: 'security-reset-applied', data: { username: owner.username, wait: `${this.deps.waitHours} hours`, supportLink: `${this.deps.publicUrl}/support/contact` } });
    });
    outbox.wake();
  }
}
