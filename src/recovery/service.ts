import type { Kysely } from 'kysely';
import type { AccountService } from '../accounts/service.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import type { Random } from '../platform/crypto.js';
import type { Db } from '../platform/db/database.js';
import type { AccountRow, DB } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { JobContext, Jobs } from '../platform/jobs.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { Secrets } from '../platform/secrets.js';
import { consumeToken, issueToken, peekToken, revokeTokens, tokenHash } from '../platform/tokens.js';
import type { SupportService } from '../support/service.js';

/** A two-step check that recovery asks for before a reset, when the account has 2SV on. */
export interface RecoveryTwoStep {
  isEnabled(accountId: string): Promise<boolean>;
  /** A `recovery` challenge tied to one reset link (opened or reused), as the API shows it. */
  challengeFor(accountId: string, resetKey: string): Promise<Record<string, unknown>>;
  /** Whether a `recovery` challenge tied to this reset link has passed. */
  passedFor(accountId: string, resetKey: string): Promise<boolean>;
  /** In the lock's transaction: suspends the methods set up in the last 24 hours; returns their types. */
  suspendRecent(trx: Kysely<DB>, accountId: string, meta: RequestMeta, reason: string): Promise<string[]>;
}

export interface RecoveryDeps {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  jobs: Jobs;
  accounts: AccountService;
  support: SupportService;
  twoStep: RecoveryTwoStep;
  /** Which live account holds a verified phone number (the phone domain answers). */
  phones: { holderOf(number: string): Promise<string | undefined> };
  publicUrl: string;
}

export const PASSWORD_RESET_JOB = 'recovery.password_reset';

/** Forgot password, "this wasn't me" and compromise reports: how a member gets back in alone. */
export class RecoveryService {
  constructor(private readonly deps: RecoveryDeps) {
    deps.jobs.register(PASSWORD_RESET_JOB, (payload, job) => this.sendResetLink(String(payload.login ?? ''), job));
  }

  /**
   * Forgot password. The answer never depends on the login: the request is only counted and
   * queued here, and the job looks the account up and mails the link after the answer. So
   * known and unknown logins do the same work, in the same time.
   */
  async requestPasswordReset(login: string, meta: RequestMeta): Promise<void> {
    const { db, limiter, jobs } = this.deps;
    const normalized = normalizeLogin(login);
    if (meta.ip) await limiter.consume('recovery_ip', meta.ip);
    await limiter.consume('recovery_login', normalized);
    await db.transaction().execute((trx) => jobs.enqueue(trx, PASSWORD_RESET_JOB, { login: normalized }));
    jobs.wake();
  }

  /** The job: for a live account, a fresh link (older ones stop working), at most a few an hour. */
  private async sendResetLink(login: string, job: JobContext): Promise<void> {
    const account = await this.findByLogin(login);
    if (!account) return;
    const allowed = await this.deps.limiter.hit('recovery_account', account.id);
    if (allowed.exceeded) return;
    await this.deps.db.transaction().execute(async (trx) => {
      await job.complete(trx);
      await this.writeResetLink(trx, account, isPhoneLogin(login));
    });
    this.deps.outbox.wake();
  }

  /**
   * A username or e-mail, or a verified phone number: the phone_in_use answer offers a reset
   * for the account that holds a number without naming it, so the link goes to that account.
   */
  private async findByLogin(login: string): Promise<AccountRow | undefined> {
    if (!isPhoneLogin(login)) return this.deps.accounts.findLiveByLogin(login);
    const holder = await this.deps.phones.holderOf(login);
    const account = holder ? await this.deps.accounts.get(holder).catch(() => undefined) : undefined;
    return account && account.status !== 'closed' ? account : undefined;
  }

  private async writeResetLink(trx: Kysely<DB>, account: AccountRow, byPhone: boolean): Promise<void> {
    const now = this.deps.clock.now();
    await revokeTokens(trx, account.id, 'password_reset', now);
    const token = await issueToken(trx, { key: this.deps.secrets.tokenKey, random: this.deps.random, now, accountId: account.id, purpose: 'password_reset' });
    await this.deps.outbox.enqueue(trx, {
      channel: 'email',
      to: account.email,
      template: 'password-reset',
      data: { username: account.username, link: `${this.deps.publicUrl}/recover/password/${encodeURIComponent(token)}`, byPhone, helpLink: `${this.deps.publicUrl}/help/duplicate-account` },
    });
    await recordAudit(trx, now, { event: 'password.reset_link_sent', accountId: account.id });
  }

  /**
   * A fresh single-use reset link for an account (older ones stop working), for another
   * domain to send: an approved security reset mails it to the requester. `then` is where
   * the flow leads after the new password (the security reset: two-step setup).
   */
  async resetLinkFor(trx: Kysely<DB>, accountId: string, then?: 'two-step'): Promise<string> {
    const now = this.deps.clock.now();
    await revokeTokens(trx, accountId, 'password_reset', now);
    const token = await issueToken(trx, { key: this.deps.secrets.tokenKey, random: this.deps.random, now, accountId, purpose: 'password_reset' });
    return `${this.deps.publicUrl}/recover/password/${encodeURIComponent(token)}${then ? `?then=${then}` : ''}`;
  }

  /** What the reset link leads to: whether a two-step check must pass first, and that check. */
  async inspectReset(token: string): Promise<{ twoStepRequired: boolean; challenge?: Record<string, unknown> }> {
    const account = await this.resetAccount(token);
    if (!(await this.deps.twoStep.isEnabled(account.id))) return { twoStepRequired: false };
    const key = this.resetKey(token);
    if (await this.deps.twoStep.passedFor(account.id, key)) return { twoStepRequired: false };
    return { twoStepRequired: true, challenge: await this.deps.twoStep.challengeFor(account.id, key) };
  }

  /**
   * Sets the new password through a reset link: every session ends, a lock ends, and a
   * notice with a "this wasn't me" link goes out. It does not sign in.
   */
  async resetPassword(token: string, newPassword: string, meta: RequestMeta): Promise<void> {
    const { accounts, secrets, clock } = this.deps;
    const account = await this.resetAccount(token);
    if ((await this.deps.twoStep.isEnabled(account.id)) && !(await this.deps.twoStep.passedFor(account.id, this.resetKey(token)))) {
      throw new AppError('two_step_required', { detail: 'Pass a two-step verification method before choosing a new password.' });
    }
    await accounts.setPassword(account.id, newPassword, meta, {
      via: 'reset',
      within: async (trx) => {
        // Used up first: two submits of one link set one password.
        const used = await consumeToken(trx, { key: secrets.tokenKey, now: clock.now(), purpose: 'password_reset', token });
        if (used !== account.id) throw new AppError('token_invalid');
      },
    });
    await this.deps.limiter.reset('signin_failures', `account:${account.id}`);
  }

  /**
   * "This wasn't me", from a security e-mail: the account locks at once (every session
   * ends), the password must be reset, and a priority case opens for the support desk.
   */
  async notMe(token: string, meta: RequestMeta): Promise<void> {
    const { db, secrets, clock } = this.deps;
    await db.transaction().execute(async (trx) => {
      const accountId = await consumeToken(trx, { key: secrets.tokenKey, now: clock.now(), purpose: 'not_me', token });
      if (!accountId) throw new AppError('token_invalid');
      // The old address first, so the lock notice goes to the owner, not to whoever changed it.
      await this.deps.accounts.revertEmailChange(trx, tokenHash(secrets.tokenKey, 'not_me', token), meta);
      await this.lockOut(trx, accountId, meta, 'not_me_link', '');
    });
    this.deps.outbox.wake();
  }

  /** A signed-in member reports their account compromised: the same lock as "this wasn't me". */
  async reportCompromised(accountId: string, details: string, meta: RequestMeta): Promise<void> {
    await this.deps.db.transaction().execute((trx) => this.lockOut(trx, accountId, meta, 'signed_in_report', details));
    this.deps.outbox.wake();
  }

  /**
   * Anyone may report an account compromised, signed out. It records a case and locks
   * nothing (nobody can lock a stranger out); the answer is the same for any login.
   */
  async reportCompromisedAnonymously(input: { login?: string | undefined; contactEmail: string; details: string }, meta: RequestMeta): Promise<{ ticketId: string }> {
    const { db, limiter, support, accounts } = this.deps;
    if (meta.ip) await limiter.consume('compromised_report_ip', meta.ip);
    const login = input.login?.trim().normalize('NFC') || null;
    const account = login ? await accounts.findLiveByLogin(login) : undefined;
    return db.transaction().execute(async (trx) => {
      const opened = await support.open(trx, {
        kind: 'compromised',
        priority: 'high',
        accountId: account?.id ?? null,
        login,
        contactEmail: input.contactEmail.trim(),
        details: input.details,
        source: 'anonymous_report',
      });
      await recordAudit(trx, this.deps.clock.now(), { event: 'compromise.reported', accountId: account?.id ?? null, meta, details: { source: 'anonymous_report', caseId: opened.id } });
      return { ticketId: opened.id };
    });
  }

  private async lockOut(trx: Kysely<DB>, accountId: string, meta: RequestMeta, source: string, details: string): Promise<void> {
    const account = await this.deps.accounts.lockForProtection(trx, accountId, meta, source);
    if (!account || account.status === 'closed') return;
    const suspended = await this.deps.twoStep.suspendRecent(trx, accountId, meta, source);
    const opened = await this.deps.support.open(trx, { kind: 'compromised', priority: 'urgent', accountId, details, source });
    await recordAudit(trx, this.deps.clock.now(), { event: 'compromise.reported', accountId, meta, details: { source, caseId: opened.id } });
    await this.deps.outbox.enqueue(trx, {
      channel: 'email',
      to: account.email,
      template: 'account-locked',
      data: { username: account.username, link: `${this.deps.publicUrl}/recover/password`, suspended: suspended.length > 0 },
    });
  }

  private async resetAccount(token: string): Promise<AccountRow> {
    const accountId = await peekToken(this.deps.db, { key: this.deps.secrets.tokenKey, now: this.deps.clock.now(), purpose: 'password_reset', token });
    const account = accountId ? await this.deps.accounts.get(accountId).catch(() => undefined) : undefined;
    if (!account || account.status === 'closed') throw new AppError('token_invalid');
    return account;
  }

  /** Ties a recovery challenge to one link without storing the link itself. */
  private resetKey(token: string): string {
    return tokenHash(this.deps.secrets.tokenKey, 'password_reset', token);
  }
}

/** Usernames never hold a "+", and e-mail addresses hold an "@": a "+" first is a phone number. */
function isPhoneLogin(login: string): boolean {
  return /^\+[\d\s().-]+$/.test(login);
}

/** One form per login, so each is counted once: trimmed, NFC, lower case; a phone number digits only. */
function normalizeLogin(login: string): string {
  const text = login.trim().normalize('NFC').toLowerCase();
  return isPhoneLogin(text) ? `+${text.replace(/\D/g, '')}` : text;
}
