import type { Kysely } from 'kysely';
import { checkEmail, checkCountry } from '../accounts/rules.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds } from '../platform/clock.js';
import { encrypt, randomToken } from '../platform/crypto.js';
import type { DB, SecurityResetStatus } from '../platform/db/schema.js';
import { AppError, invalid, type FieldError } from '../platform/errors.js';
import type { JobContext } from '../platform/jobs.js';
import { Decisions } from './decisions.js';
import { isUuid, keyHash, statusLink, type SecurityResetDeps } from './deps.js';
import * as q from './queries.js';
import type { Decision } from './schemas.js';
import { caseStatus } from './states.js';
import { toStatusView, type StatusView } from './view.js';

export const MATCH_JOB = 'security_reset.match';
/** How long after a reset took effect the requester may ask for a new set-a-password link. */
export const NEW_LINK_DAYS = 7;

export interface ResetRequest {
  login: string;
  fullName: string;
  contactEmail: string;
  details: string;
  oldPhoneDigits?: string | undefined;
  country?: string | undefined;
}

/** What the schema cannot say: blank after trimming, an e-mail address, a known country. */
export function checkResetRequest(input: { login: string; fullName: string; contactEmail: string; details: string; country?: string | undefined }): FieldError[] {
  const errors: FieldError[] = [];
  if (!input.login.trim()) errors.push({ path: '/login', message: 'Enter the username or e-mail of the account.' });
  if (!input.fullName.trim()) errors.push({ path: '/fullName', message: 'Enter your full name.' });
  checkEmail(input.contactEmail.trim(), errors, '/contactEmail');
  if (!input.details.trim()) errors.push({ path: '/details', message: 'Tell us what happened.' });
  const country = input.country?.trim().toUpperCase();
  if (country) checkCountry(country, errors);
  return errors;
}

/**
 * "Reset your security information": someone who lost the phone (and every other method)
 * asks support to take two-step verification off an account. See decisions.ts for the
 * agent's decision, the waiting period and the reset itself.
 */
export class SecurityResetService {
  readonly decisions: Decisions;

  constructor(private readonly deps: SecurityResetDeps) {
    this.decisions = new Decisions(deps);
    deps.jobs.register(MATCH_JOB, (payload, job) => this.match(String(payload.caseId ?? ''), job));
  }

  /**
   * Records the request and mails its status link to the contact address. The answer and
   * the work never depend on the login: the account is looked up by a job after the answer.
   */
  async request(input: ResetRequest, meta: RequestMeta): Promise<{ requestId: string; status: 'pending_review' }> {
    const { db, limiter, clock, support, outbox, jobs, random, secrets } = this.deps;
    const errors = checkResetRequest(input);
    if (errors.length) throw invalid(errors);
    const login = input.login.trim().normalize('NFC');
    const contactEmail = input.contactEmail.trim();
    const fullName = input.fullName.trim();
    const country = input.country?.trim().toUpperCase() || null;

    if (meta.ip) await limiter.consume('security_reset_ip', meta.ip);
    await limiter.consume('security_reset_login', login.toLowerCase());
    await limiter.consume('security_reset_contact', contactEmail.toLowerCase());
    const key = randomToken(random);
    const now = clock.now();
    const requestId = await db.transaction().execute(async (trx) => {
      const opened = await support.open(trx, { kind: 'security_reset', priority: 'normal', accountId: null, login, contactEmail, details: input.details, source: 'security_reset_form' });
      await q.insertReset(trx, {
        case_id: opened.id,
        account_id: null,
        login,
        full_name: fullName,
        contact_email: contactEmail,
        old_phone_digits: input.oldPhoneDigits?.trim() || null,
        country,
        key_hash: keyHash(this.deps, key),
        key_sealed: encrypt(secrets.encryptionKey, key),
        created_at: now,
        updated_at: now,
      });
      await q.addNote(trx, { case_id: opened.id, author: 'requester', kind: 'requested', body: input.details, actor_id: null, created_at: now });
      await outbox.enqueue(trx, {
        channel: 'email',
        to: contactEmail,
        template: 'security-reset-received',
        data: { fullName, login, link: `${this.deps.publicUrl}/recover/security-reset/${opened.id}?key=${encodeURIComponent(key)}` },
      });
      await jobs.enqueue(trx, MATCH_JOB, { caseId: opened.id });
      await recordAudit(trx, now, { event: 'security_reset.requested', accountId: null, meta, details: { caseId: opened.id } });
      return opened.id;
    });
    outbox.wake();
    jobs.wake();
    return { requestId, status: 'pending_review' };
  }

  /** The job: ties the request to the live account its login names, if any. */
  private async match(caseId: string, job: JobContext): Promise<void> {
    const row = await q.findReset(this.deps.db, caseId);
    if (!row || row.matched_at) return;
    const account = await this.deps.accounts.findLiveByLogin(row.login);
    await this.deps.db.transaction().execute(async (trx) => {
      await job.complete(trx);
      const now = this.deps.clock.now();
      await q.setAccount(trx, caseId, account?.id ?? null, now);
      if (!account) return;
      await this.deps.support.attachAccount(trx, caseId, account.id);
      await recordAudit(trx, now, { event: 'security_reset.requested', accountId: account.id, actorId: null, details: { caseId } });
    });
  }

  /** What the status link shows. Unknown ids and wrong keys are the same 404. */
  async status(requestId: string, key: string): Promise<StatusView> {
    const row = await this.byKey(this.deps.db, requestId, key);
    return toStatusView(row, await q.notesOf(this.deps.db, row.case_id));
  }

  /** The requester answers "more information needed": the request goes back to review. */
  async addInfo(requestId: string, key: string, details: string, meta: RequestMeta): Promise<StatusView> {
    const { db, clock, limiter } = this.deps;
    const found = await this.byKey(db, requestId, key);
    if (!details.trim()) throw invalid([{ path: '/details', message: 'Tell us what the agent asked for.' }]);
    await limiter.consume('security_reset_info', found.case_id);
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row = await q.transition(trx, found.case_id, 'more_info_needed', { status: 'pending_review', updated_at: now }, { keyHash: found.key_hash });
      if (!row) throw new AppError('reset_not_waiting');
      await q.addNote(trx, { case_id: row.case_id, author: 'requester', kind: 'info_added', body: details, actor_id: null, created_at: now });
      await this.deps.support.setStatus(trx, row.case_id, caseStatus.pending_review);
      await recordAudit(trx, now, { event: 'security_reset.info_added', accountId: row.account_id, actorId: null, meta, details: { caseId: row.case_id } });
    });
    return this.status(requestId, key);
  }

  /**
   * A completed reset whose set-a-password link went unused in time: a new link to the
   * contact address, for a few days after the reset.
   */
  async newPasswordLink(requestId: string, key: string): Promise<void> {
    const { db, clock, limiter, outbox } = this.deps;
    const row = await this.byKey(db, requestId, key);
    const now = clock.now();
    if (row.status !== 'completed' || !row.account_id || !row.applied_at || addSeconds(row.applied_at, NEW_LINK_DAYS * 86400) < now) {
      throw new AppError('not_found', { detail: 'A new link can only be sent for a few days after the reset took effect.' });
    }
    await limiter.consume('security_reset_link', row.case_id);
    const accountId = row.account_id;
    await db.transaction().execute(async (trx) => {
      const link = await this.deps.recovery.resetLinkFor(trx, accountId, 'two-step');
      await outbox.enqueue(trx, { channel: 'email', to: row.contact_email, template: 'security-reset-ready', data: { fullName: row.full_name, link, statusLink: statusLink(this.deps, row) } });
      await recordAudit(trx, now, { event: 'security_reset.link_resent', accountId, actorId: null, details: { caseId: row.case_id } });
    });
    outbox.wake();
  }

  decide(caseId: string, agentId: string, input: { decision: Decision; note: string }, meta: RequestMeta): Promise<{ status: SecurityResetStatus; effectiveAt?: string }> {
    return this.decisions.decide(caseId, agentId, input, meta);
  }

  cancelByLink(token: string, meta: RequestMeta): Promise<void> {
    return this.decisions.cancelByLink(token, meta);
  }

  /** For the challenges' hook: a sign-in that passed a second step cancels waiting resets. */
  cancelBySignIn(trx: Kysely<DB>, accountId: string, meta: RequestMeta): Promise<void> {
    return this.decisions.cancelBySignIn(trx, accountId, meta);
  }

  private async byKey(db: Kysely<DB>, requestId: string, key: string): Promise<q.ResetRow> {
    const row = isUuid(requestId) && key.length <= 200 ? await q.findByKey(db, requestId, keyHash(this.deps, key)) : undefined;
    if (!row) throw new AppError('not_found', { detail: 'No request matches this link. Use the newest link we e-mailed you.' });
    return row;
  }
}

