import type { Kysely } from 'kysely';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import type { Random } from '../platform/crypto.js';
import { isUniqueViolation, type Db } from '../platform/db/database.js';
import type { AccountRow, DB, MemberAccount, Role } from '../platform/db/schema.js';
import { AppError, invalid, type FieldError } from '../platform/errors.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { Secrets } from '../platform/secrets.js';
import { consumeToken, issueToken, revokeTokens } from '../platform/tokens.js';
import type { IssuedSession, SessionService } from '../sessions/service.js';
import { releasePhoneOnClose } from '../phone/release.js';
import { hashPassword, passwordWeaknesses } from './password.js';
import * as q from './queries.js';
import { checkCountry, checkEmail, checkFullName, checkRoles, checkUsername, EMAIL_MAX, normalizeEmail } from './rules.js';
import { notMeLink } from '../platform/not-me.js';
import { EmailChanges } from './email-change.js';
import { toAccountView, viewExtras, type AccountView, type ViewPart } from './view.js';
import type { MemberCache } from '../platform/member-cache.js';

export interface SignUpInput {
  email: string;
  username: string;
  password: string;
  country: string;
  roles: string[];
  fullName?: string | undefined;
}

export interface ProfileChanges {
  roles?: string[] | undefined;
  fullName?: string | undefined;
  country?: string | undefined;
}

/** An account as a list shows it. */
export interface AccountBrief {
  id: string;
  username: string;
  email: string;
  status: string;
  created_at: Date;
}

export interface AccountDeps {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  sessions: SessionService;
  publicUrl: string;
  /** Other domains' parts of the account view (GET /v1/me), in order. */
  viewParts: readonly ViewPart[];
  /** What this process remembers of members (platform/member-cache.ts). */
  cache: MemberCache;
}

export class AccountService {
  readonly emailChanges: EmailChanges;

  constructor(private readonly deps: AccountDeps) {
    this.emailChanges = new EmailChanges(deps);
  }

  /** Recovery's "this wasn't me" puts back an address changed in the last days. */
  revertEmailChange(trx: Kysely<DB>, notMeHash: string, meta: RequestMeta): Promise<void> {
    return this.emailChanges.revert(trx, notMeHash, meta);
  }

  async signUp(input: SignUpInput, meta: RequestMeta): Promise<{ account: AccountRow; issued: IssuedSession }> {
    const { db, clock, limiter, outbox } = this.deps;
    const email = normalizeEmail(input.email);
    const username = input.username.trim();
    const country = input.country.trim().toUpperCase();
    const errors: FieldError[] = [];
    checkEmail(email, errors);
    checkUsername(username, errors);
    checkCountry(country, errors);
    const roles = checkRoles(input.roles, errors);
    const fullName = input.fullName?.trim() || null;
    if (fullName) checkFullName(fullName, errors);
    if (errors.length) throw invalid(errors);

    if (meta.ip) await limiter.consume('signup_ip', meta.ip);

    const reasons = passwordWeaknesses(input.password, { username, email });
    if (reasons.length) throw weak(reasons);
    // Friendly checks first; the unique indexes below settle any race.
    if (await q.emailInUse(db, email)) throw new AppError('email_taken');
    if (await q.usernameInUse(db, username)) throw new AppError('username_taken');

    const passwordHash = await hashPassword(input.password);
    const now = clock.now();
    try {
      const result = await db.transaction().execute(async (trx) => {
        const account = await q.insertAccount(trx, {
          email,
          username,
          full_name: fullName,
          country,
          roles,
          password_hash: passwordHash,
          email_verified_at: null,
          created_at: now,
          updated_at: now,
          closed_at: null,
        });
        await this.sendVerification(trx, account);
        const issued = await this.deps.sessions.create(trx, account.id, meta, { newAccount: true });
        await recordAudit(trx, now, { event: 'account.created', accountId: account.id, meta, details: { roles } });
        return { account, issued };
      });
      outbox.wake();
      return result;
    } catch (error) {
      if (isUniqueViolation(error, 'accounts_email_key')) throw new AppError('email_taken');
      if (isUniqueViolation(error, 'accounts_username_key')) throw new AppError('username_taken');
      throw error;
    }
  }

  private async sendVerification(trx: Kysely<DB>, account: AccountRow): Promise<void> {
    const now = this.deps.clock.now();
    await revokeTokens(trx, account.id, 'email_verification', now);
    const token = await issueToken(trx, {
      key: this.deps.secrets.tokenKey,
      random: this.deps.random,
      now,
      accountId: account.id,
      purpose: 'email_verification',
    });
    await this.deps.outbox.enqueue(trx, {
      channel: 'email',
      to: account.email,
      template: 'verify-email',
      data: { username: account.username, link: `${this.deps.publicUrl}/verify-email?token=${encodeURIComponent(token)}` },
    });
  }

  /** Sends a fresh verification link; earlier links stop working. */
  async resendVerification(accountId: string): Promise<void> {
    const account = await this.get(accountId);
    if (account.email_verified_at) return;
    await this.deps.limiter.consume('email_verification_send', account.id);
    await this.deps.db.transaction().execute((trx) => this.sendVerification(trx, account));
    this.deps.outbox.wake();
  }

  async verifyEmail(token: string, meta: RequestMeta): Promise<AccountRow> {
    const { db, clock } = this.deps;
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      const accountId = await consumeToken(trx, { key: this.deps.secrets.tokenKey, now, purpose: 'email_verification', token });
      const account = accountId ? await q.findAccountById(trx, accountId) : undefined;
      if (!account || account.status === 'closed') throw new AppError('token_invalid');
      const updated = await q.updateAccount(trx, account.id, { email_verified_at: account.email_verified_at ?? now, updated_at: now });
      await recordAudit(trx, now, { event: 'account.email_verified', accountId: account.id, meta });
      return updated;
    });
  }

  /** A live (not closed) account by username or e-mail, as typed. */
  findLiveByLogin(login: string): Promise<AccountRow | undefined> {
    const normalized = login.trim().normalize('NFC');
    if (!normalized || normalized.length > EMAIL_MAX) return Promise.resolve(undefined);
    return q.findLiveAccountByLogin(this.deps.db, normalized);
  }

  /**
   * Locks an account against an intruder (a compromise report, "this wasn't me"), in the
   * caller's transaction: sign-in is refused until a password reset. Every session ends.
   */
  async lockForProtection(trx: Kysely<DB>, accountId: string, meta: RequestMeta, reason: string, actorId?: string): Promise<AccountRow | undefined> {
    const now = this.deps.clock.now();
    const locked = await q.lockAccount(trx, accountId, now);
    const ended = await this.deps.sessions.revokeAll(trx, accountId);
    if (locked) await recordAudit(trx, now, { event: 'account.locked', accountId, actorId: actorId ?? null, meta, details: { reason, sessionsEnded: ended } });
    return locked ?? (await q.findAccountById(trx, accountId));
  }

  /**
   * A support agent ends a lock (theirs or a compromise lock) once the member is known to be
   * in control again: locked → active, conditionally, audited with the agent as the actor.
   */
  async unlockByStaff(trx: Kysely<DB>, accountId: string, agentId: string, reason: string, meta: RequestMeta): Promise<AccountRow | undefined> {
    const now = this.deps.clock.now();
    const unlocked = await q.unlockAccount(trx, accountId, now);
    if (unlocked) await recordAudit(trx, now, { event: 'account.unlocked', accountId, actorId: agentId, meta, details: { via: 'agent', reason } });
    return unlocked ?? (await q.findAccountById(trx, accountId));
  }

  /** Usernames and e-mails of several accounts at once, for lists (the agents' queue). No secrets. */
  async briefs(ids: readonly string[]): Promise<Map<string, AccountBrief>> {
    const rows = await q.findBriefs(this.deps.db, [...new Set(ids)].filter(q.isUuid));
    return new Map(rows.map((r) => [r.id, r]));
  }

  async get(accountId: string): Promise<AccountRow> {
    const account = await q.findAccountById(this.deps.db, accountId);
    if (!account) throw new AppError('not_found');
    return account;
  }

  /** The account with its read-only facts, from memory when held (gate checks). Never hand it to a writer. */
  async getCached(accountId: string): Promise<AccountRow> {
    return this.deps.cache.remember(accountId, 'account', () => this.get(accountId));
  }

  async view(account: MemberAccount): Promise<AccountView> {
    const extras = await this.deps.cache.remember(account.id, 'view', () => viewExtras(this.deps.db, account, this.deps.viewParts));
    return toAccountView(account, extras);
  }

  async updateProfile(accountId: string, changes: ProfileChanges, meta: RequestMeta): Promise<AccountRow> {
    const errors: FieldError[] = [];
    let roles: Role[] | undefined;
    if (changes.roles !== undefined) roles = checkRoles(changes.roles, errors);
    const country = changes.country?.trim().toUpperCase();
    if (country !== undefined) checkCountry(country, errors);
    const fullName = changes.fullName?.trim();
    if (fullName) checkFullName(fullName, errors);
    if (errors.length) throw invalid(errors);

    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const before = await q.findAccountById(trx, accountId);
      if (!before) throw new AppError('not_found');
      const updated = await q.updateAccount(trx, accountId, {
        ...(roles ? { roles } : {}),
        ...(country ? { country } : {}),
        ...(fullName !== undefined ? { full_name: fullName || null } : {}),
        updated_at: now,
      });
      if (roles && roles.slice().sort().join() !== before.roles.slice().sort().join()) {
        await recordAudit(trx, now, { event: 'account.roles_changed', accountId, meta, details: { from: before.roles, to: roles } });
      }
      if (country && country !== before.country) {
        await recordAudit(trx, now, { event: 'account.updated', accountId, meta, details: { country: { from: before.country, to: country } } });
      }
      return updated;
    });
  }

  /**
   * A signed-in member changes their password: the current one is re-checked (wrong guesses
   * count toward the sign-in lock), then the new one is set as `setPassword` does.
   */
  async changePassword(
    accountId: string,
    currentSessionId: string,
    input: { password: string; newPassword: string },
    meta: RequestMeta,
  ): Promise<{ sessionsEnded: number }> {
    const account = await this.get(accountId);
    await this.deps.sessions.confirmPassword(account, input.password, meta);
    return this.setPassword(account.id, input.newPassword, meta, { keepSessionId: currentSessionId, via: 'change' });
  }

  /**
   * Sets a new password (a change by the member, or a reset by recovery): the strength rules
   * apply, and in one transaction the hash is replaced, every session but `keepSessionId`
   * ends, open password-reset links die, `password.changed` is audited and a notice e-mail
   * is queued.
   */
  async setPassword(
    accountId: string,
    newPassword: string,
    meta: RequestMeta,
    options: {
      keepSessionId?: string | undefined;
      via: 'change' | 'reset';
      /**
       * Runs first in the same transaction (recovery uses up its link there, so a refused
       * password leaves the link usable and a used link sets nothing).
       */
      within?: (trx: Kysely<DB>) => Promise<void>;
    },
  ): Promise<{ sessionsEnded: number }> {
    const { db, clock, outbox } = this.deps;
    const account = await this.get(accountId);
    if (account.status === 'closed') throw new AppError('not_found');
    const reasons = passwordWeaknesses(newPassword, { username: account.username, email: account.email });
    if (reasons.length) throw weak(reasons, '/newPassword');
    const passwordHash = await hashPassword(newPassword);
    const now = clock.now();
    const sessionsEnded = await db.transaction().execute(async (trx) => {
      await options.within?.(trx);
      // A reset is how a member gets back into a locked account (compromise, "this wasn't me").
      const unlock = options.via === 'reset' && account.status === 'locked' ? { status: 'active' as const } : {};
      await q.updateAccount(trx, account.id, { password_hash: passwordHash, updated_at: now, ...unlock });
      if (unlock.status) await recordAudit(trx, now, { event: 'account.unlocked', accountId: account.id, meta, details: { via: 'password_reset' } });
      const ended = await this.deps.sessions.revokeAll(trx, account.id, options.keepSessionId);
      await revokeTokens(trx, account.id, 'password_reset', now);
      await recordAudit(trx, now, { event: 'password.changed', accountId: account.id, meta, details: { via: options.via, sessionsEnded: ended } });
      const notMe = await notMeLink(trx, { key: this.deps.secrets.tokenKey, random: this.deps.random, now, accountId: account.id, publicUrl: this.deps.publicUrl });
      await outbox.enqueue(trx, {
        channel: 'email',
        to: account.email,
        template: 'password-changed',
        data: { username: account.username, at: now.toISOString(), via: options.via, notMeLink: notMe.link },
      });
      return ended;
    });
    outbox.wake();
    return { sessionsEnded };
  }

  /**
   * Closes an account after re-checking the password: every session ends and sign-in is
   * refused from then on. The e-mail becomes free for a new account; the username does not.
   */
  async close(accountId: string, password: string, meta: RequestMeta): Promise<void> {
    const { db, clock, outbox } = this.deps;
    const account = await this.get(accountId);
    await this.deps.sessions.confirmPassword(account, password, meta);
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      if (!(await q.closeAccountUnlessLastAdmin(trx, accountId, now))) {
        throw new AppError('last_admin', { detail: 'You are the last administrator. Make another account an administrator before closing yours.' });
      }
      await this.deps.sessions.revokeAll(trx, accountId);
      const phone = await releasePhoneOnClose(trx, accountId, now, meta);
      await recordAudit(trx, now, { event: 'account.closed', accountId, meta });
      await outbox.enqueue(trx, { channel: 'email', to: account.email, template: 'account-closed', data: { username: account.username, phone } });
    });
    outbox.wake();
  }
}

function weak(reasons: string[], path = '/password'): AppError {
  return new AppError('password_too_weak', {
    detail: reasons.join(' '),
    extra: { reasons, errors: [{ path, message: reasons.join(' ') }] },
  });
}
