import type { Kysely } from 'kysely';
import { findLiveAccountByLogin, isUuid, updateAccount } from '../accounts/queries.js';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from '../accounts/password.js';
import { recentAudit, recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds, type Clock } from '../platform/clock.js';
import { randomToken, sha256Hex, type Random } from '../platform/crypto.js';
import type { Db } from '../platform/db/database.js';
import type { AccountRow, DB, MemberAccount, SessionRow } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { Metrics } from '../platform/metrics.js';
import type { MemberCache } from '../platform/member-cache.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { ChallengeView } from '../challenges/service.js';
import { describeDevice } from './device.js';
import { KnownDevices, type DeviceSeen } from './known-devices.js';
import { SignInLock } from './lock.js';
import { AccountPressure } from './pressure.js';
import * as q from './queries.js';

export interface SessionPolicy {
  absoluteSeconds: number;
  idleSeconds: number;
}

/** lastSeenAt is written at most this often per session, not on every request. */
export const TOUCH_INTERVAL_SECONDS = 60;

export interface IssuedSession {
  token: string;
  expiresAt: Date;
  session: SessionRow;
  /** The browser's device cookie to keep (setDeviceCookie), and whether it was new to the account. */
  device: DeviceSeen;
}

export interface Authenticated {
  session: SessionRow;
  account: MemberAccount;
}

export interface SessionView {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

export type SignInResult =
  | { status: 'authenticated'; issued: IssuedSession; account: AccountRow }
  | { status: 'two_step_required'; challenge: ChallengeView; account: AccountRow };

export interface SessionDeps {
  db: Db;
  clock: Clock;
  random: Random;
  limiter: RateLimiter;
  metrics: Metrics;
  outbox: Outbox;
  publicUrl: string;
  /** secrets.tokenKey: device cookies are kept as an HMAC under it (known-devices.ts). */
  tokenKey: Buffer;
  policy: SessionPolicy;
  /** What this process remembers of signed-in members (platform/member-cache.ts). */
  cache: MemberCache;
  /** Opens a sign-in challenge (the challenges service; a function, as it needs this service too). */
  loginChallenge(input: { account: AccountRow; reason: string }, meta: RequestMeta): Promise<ChallengeView>;
  /** Whether an account has two-step verification on (two-step verification plugs in here). */
  twoStepEnabled?: (accountId: string) => Promise<boolean>;
}

export class SessionService {
  private readonly lock: SignInLock;
  private readonly pressure: AccountPressure;
  private readonly devices: KnownDevices;

  constructor(private readonly deps: SessionDeps) {
    this.lock = new SignInLock(deps);
    this.pressure = new AccountPressure(deps);
    this.devices = new KnownDevices({ ...deps, key: deps.tokenKey });
  }

  /**
   * Opens a session inside the caller's transaction. The token is returned once, never stored.
   * Every session goes through here (password sign-in, a passed sign-in challenge, sign-up), so
   * a browser the account has not used before is told by e-mail in this same transaction;
   * `newAccount` (sign-up) makes the browser known without an e-mail.
   */
  async create(trx: Kysely<DB>, accountId: string, meta: RequestMeta, how: { newAccount?: boolean } = {}): Promise<IssuedSession> {
    const now = this.deps.clock.now();
    const token = randomToken(this.deps.random);
    const expiresAt = addSeconds(now, this.deps.policy.absoluteSeconds);
    const session = await q.insertSession(trx, {
      account_id: accountId,
      token_hash: sha256Hex(token),
      created_at: now,
      expires_at: expiresAt,
      last_seen_at: now,
      elevated_until: null,
      ip: meta.ip,
      user_agent: meta.userAgent?.slice(0, 512) ?? null,
      revoked_at: null,
    });
    const device = await this.devices.seen(trx, accountId, meta, { quiet: how.newAccount === true });
    return { token, expiresAt, session, device };
  }

  /** Marks a session as freshly checked (a passed step-up) until `until`, in the caller's transaction. */
  async elevate(trx: Kysely<DB>, sessionId: string, until: Date): Promise<void> {
    await q.setElevated(trx, sessionId, until);
  }

  /**
   * Checks a login and password. Unknown logins and wrong passwords fail identically and
   * in comparable time. A failure is reserved before the password is compared, so the lock
   * (lock.ts) is a hard cap even against parallel guesses. A right password opens a session,
   * or a challenge when two-step verification is on or the account is under attack.
   */
  async signIn(input: { login: string; password: string }, meta: RequestMeta): Promise<SignInResult> {
    const { db, clock, limiter, metrics } = this.deps;
    const hold = await this.lock.reserve(input.login, meta.ip).catch((error: unknown) => {
      metrics.signIns.inc({ outcome: 'locked' });
      throw error;
    });
    if (meta.ip) await limiter.consume('signin_ip', meta.ip);
    const account = hold.login.length <= 254 ? await findLiveAccountByLogin(db, hold.login) : undefined;

    const ok = await verifyPassword(account?.password_hash ?? (await dummyHash()), input.password);
    if (!account || !ok) {
      metrics.signIns.inc({ outcome: 'failure' });
      const refusal = await this.lock.failed(hold, account?.id ?? null, meta, account ? 'wrong_password' : 'unknown_login');
      if (account) await this.pressure.failed(account, meta);
      throw refusal;
    }
    if (account.status === 'locked') {
      metrics.signIns.inc({ outcome: 'locked' });
      await recordAudit(db, clock.now(), { event: 'signin.failed', accountId: account.id, meta, details: { reason: 'account_locked' } });
      throw new AppError('account_locked', {
        detail: 'This account is locked for your protection. To get back in, reset your password: ask for a link under \u201cForgot password?\u201d and follow the one we e-mail you. If you can\u2019t reach that e-mail, contact support.',
      });
    }
    await this.lock.succeeded(hold);

    const reason = (await this.pressure.underAttack(account.id)) ? 'many_failures' : (await this.deps.twoStepEnabled?.(account.id)) ? 'two_step' : null;
    if (reason) {
      // Nothing that works as a session yet: only a challenge, passed by a second factor.
      metrics.signIns.inc({ outcome: 'challenged' });
      const challenge = await this.deps.loginChallenge({ account, reason }, meta);
      return { status: 'two_step_required', challenge, account };
    }

    const issued = await db.transaction().execute(async (trx) => {
      if (needsRehash(account.password_hash)) {
        await updateAccount(trx, account.id, { password_hash: await hashPassword(input.password) });
        await recordAudit(trx, clock.now(), { event: 'password.rehashed', accountId: account.id, meta });
      }
      const created = await this.create(trx, account.id, meta);
      await recordAudit(trx, clock.now(), { event: 'signin.succeeded', accountId: account.id, meta, details: { sessionId: created.session.id } });
      return created;
    });
    // Only a new browser's notice was queued; a known browser gives the outbox nothing to do.
    if (issued.device.isNew) this.deps.outbox.wake();
    metrics.signIns.inc({ outcome: 'success' });
    return { status: 'authenticated', issued, account };
  }

  /**
   * Re-checks the password of a signed-in member (closing the account, sensitive changes).
   * Each wrong guess is reserved before comparing, like sign-in, so a stolen session is not
   * an unlimited (or, in parallel, a raceable) password-guessing oracle.
   */
  async confirmPassword(account: AccountRow, password: string, meta: RequestMeta): Promise<void> {
    const hold = await this.lock.reserveConfirmation(account.id);
    if (await verifyPassword(account.password_hash, password)) {
      await this.lock.succeeded(hold);
      return;
    }
    await this.lock.failed(hold, account.id, meta, 'wrong_password_confirm');
    throw new AppError('invalid_credentials', {
      detail: 'The password is not right.',
      extra: { errors: [{ path: '/password', message: 'The password is not right.' }] },
    });
  }

  /**
   * Resolves a bearer token to a live session of a usable account, or null. Memory answers
   * when it holds the session (every revocation empties it, on every process); the rules of
   * a live session are checked again on each use, as time passes without any change.
   */
  async authenticate(token: string): Promise<Authenticated | null> {
    if (!token || token.length > 100) return null;
    const { db, cache, clock, policy } = this.deps;
    const now = clock.now();
    const tokenHash = sha256Hex(token);
    const key = `session:${tokenHash}`;
    let found = await cache.rememberByKey(key, async () => {
      const row = await q.findLiveSessionByHash(db, tokenHash, now, policy.idleSeconds);
      return row ? { accountId: row.account.id, value: row } : null;
    });
    if (found && !q.isLive(found.session, now, policy.idleSeconds)) {
      // Memory's last-seen time may be older than another process's touch: ask the database.
      found = (await q.findLiveSessionByHash(db, tokenHash, now, policy.idleSeconds)) ?? null;
      if (found) cache.update(found.account.id, key, found);
    }
    if (!found || found.account.status !== 'active') return null;
    if (now.getTime() - found.session.last_seen_at.getTime() >= TOUCH_INTERVAL_SECONDS * 1000) {
      await q.touchSession(db, found.session.id, now, addSeconds(now, -TOUCH_INTERVAL_SECONDS));
      found = { account: found.account, session: { ...found.session, last_seen_at: now } };
      cache.update(found.account.id, key, found);
    }
    return found;
  }

  /** Whether this live session of the account has stepped up within the last few minutes. */
  async isElevated(accountId: string, sessionId: string): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const { db, cache, clock, policy } = this.deps;
    const now = clock.now();
    const found = await cache.remember(accountId, `elevation:${sessionId}`, () => q.findLiveElevation(db, accountId, sessionId, now, policy.idleSeconds));
    return !!found && found.expires_at > now && found.elevated_until !== null && found.elevated_until > now;
  }

  async list(accountId: string, currentId: string): Promise<SessionView[]> {
    const now = this.deps.clock.now();
    const rows = await q.listLiveSessions(this.deps.db, accountId, now, this.deps.policy.idleSeconds);
    return rows.map((s) => ({
      id: s.id,
      createdAt: s.created_at.toISOString(),
      lastSeenAt: s.last_seen_at.toISOString(),
      expiresAt: s.expires_at.toISOString(),
      ip: s.ip,
      userAgent: s.user_agent,
      current: s.id === currentId,
    }));
  }

  /** When the account last signed in or used a session (ended ones too); null if never. Pass the caller's transaction if in one. */
  lastActiveAt(accountId: string, db: Kysely<DB> = this.deps.db): Promise<Date | null> {
    return q.lastActivity(db, accountId);
  }

  async revoke(accountId: string, sessionId: string, meta: RequestMeta): Promise<void> {
    if (!isUuid(sessionId)) throw new AppError('not_found', { detail: 'No such session.' });
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      const n = await q.revokeSession(trx, accountId, sessionId, now);
      if (n === 0) throw new AppError('not_found', { detail: 'No such session.' });
      await recordAudit(trx, now, { event: 'session.revoked', accountId, meta, details: { sessionId } });
    });
  }

  async revokeOthers(accountId: string, currentId: string, meta: RequestMeta): Promise<number> {
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const n = await q.revokeAllSessions(trx, accountId, now, currentId);
      await recordAudit(trx, now, { event: 'session.revoked_others', accountId, meta, details: { count: n } });
      return n;
    });
  }

  async signOut(accountId: string, sessionId: string, meta: RequestMeta): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      await q.revokeSession(trx, accountId, sessionId, now);
      await recordAudit(trx, now, { event: 'session.signed_out', accountId, meta, details: { sessionId } });
    });
  }

  /** Recent sign-ins (newest first) with where they came from, for a support agent's view. */
  async recentSignIns(accountId: string, limit = 10): Promise<Array<{ at: string; ip: string | null; country: string | null; device: string }>> {
    const rows = await recentAudit(this.deps.db, accountId, { events: ['signin.succeeded'], limit });
    return rows.map((r) => ({ at: r.at.toISOString(), ip: r.ip, country: r.country, device: describeDevice(r.userAgent) }));
  }

  /**
   * Ends every session of an account (password reset, close, compromise), in the caller's
   * transaction; `exceptId` keeps the caller's own session (a password change).
   */
  revokeAll(trx: Kysely<DB>, accountId: string, exceptId?: string): Promise<number> {
    return q.revokeAllSessions(trx, accountId, this.deps.clock.now(), exceptId);
  }
}
