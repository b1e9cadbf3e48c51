import { isIPv4, isIPv6 } from 'node:net';
import { normalizeEmail } from '../accounts/rules.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { durationInWords, secondsUntil, type Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/database.js';
import { AppError } from '../platform/errors.js';
import type { Hit, RateLimiter } from '../platform/ratelimit.js';

/**
 * The temporary sign-in lock. A failure is reserved BEFORE the password is compared (so
 * parallel guesses cannot pass the limit) and given back only when the password is right.
 * It counts per login as typed and per source (an IPv4 address, an IPv6 /64), so a stranger
 * elsewhere cannot lock the owner out, and unknown logins lock exactly like known ones.
 */
export class SignInLock {
  constructor(private readonly deps: { db: Db; clock: Clock; limiter: RateLimiter }) {}

  /** Reserves one failure for this attempt; refuses (423, or 429 for a source) when the limit is used up. */
  async reserve(typedLogin: string, ip: string | null): Promise<Reservation> {
    const { limiter, clock } = this.deps;
    const login = normalizeLogin(typedLogin);
    const source = sourceOf(ip);
    const pair = await limiter.hit('signin_failures', `${source}|${login}`);
    const fromSource = source === 'unknown' ? null : await limiter.hit('signin_source_failures', source);
    if (pair.exceeded) throw locked(clock.now(), pair.resetAt);
    if (fromSource?.exceeded) {
      const retryAfter = Math.max(1, secondsUntil(clock.now(), fromSource.resetAt));
      throw new AppError('rate_limited', {
        detail: `Too many failed sign-ins from your network. Try again in ${durationInWords(retryAfter)}.`,
        retryAfter,
      });
    }
    return { login, source, pair, fromSource };
  }

  /** Reserves one failure of a signed-in member re-typing their password (per account: the session is the source). */
  async reserveConfirmation(accountId: string): Promise<Reservation> {
    const pair = await this.deps.limiter.hit('signin_failures', `confirm|${accountId}`);
    if (pair.exceeded) throw locked(this.deps.clock.now(), pair.resetAt);
    return { login: accountId, source: 'confirm', pair, fromSource: null };
  }

  /**
   * The password was wrong: the reservation stays. Audits the failure (and the lock, when
   * this one reached it); returns the refusal, which warns when few tries are left.
   */
  async failed(reservation: Reservation, accountId: string | null, meta: RequestMeta, reason: string): Promise<AppError> {
    const { db, clock } = this.deps;
    const { pair } = reservation;
    await recordAudit(db, clock.now(), { event: 'signin.failed', accountId, meta, details: { reason } });
    if (pair.count === pair.limit) {
      await recordAudit(db, clock.now(), { event: 'signin.locked', accountId, meta, details: { lockedUntil: pair.resetAt.toISOString(), source: reservation.source } });
    }
    return invalidCredentials(Math.max(0, pair.limit - pair.count), clock.now(), pair.resetAt);
  }

  /** The password was right: this login's failures from this source are forgotten, the source's one given back. */
  async succeeded(reservation: Reservation): Promise<void> {
    const { limiter } = this.deps;
    await limiter.reset('signin_failures', `${reservation.source}|${reservation.login}`);
    if (reservation.fromSource) await limiter.refund(reservation.fromSource);
  }
}

export interface Reservation {
  login: string;
  source: string;
  pair: Hit;
  fromSource: Hit | null;
}

/** Below this many tries left, a wrong password says how many remain. */
export const WARN_TRIES_LEFT = 3;

/** 401 invalid_credentials, the same for unknown logins and wrong passwords, warning near the lock. */
export function invalidCredentials(triesLeft: number, now: Date, lockedUntil: Date): AppError {
  if (triesLeft > WARN_TRIES_LEFT) return new AppError('invalid_credentials');
  const base = 'The username, e-mail or password is not right.';
  const detail =
    triesLeft === 0
      ? `${base} Signing in is now paused: try again in ${durationInWords(Math.max(1, secondsUntil(now, lockedUntil)))}, or reset your password.`
      : `${base} ${triesLeft} ${triesLeft === 1 ? 'try' : 'tries'} left before signing in is paused for a while.`;
  return new AppError('invalid_credentials', { detail, extra: { attemptsLeft: triesLeft } });
}

/** 423 account_locked, saying when in words; the time itself in lockedUntil and Retry-After. */
export function locked(now: Date, until: Date): AppError {
  const retryAfter = Math.max(1, secondsUntil(now, until));
  return new AppError('account_locked', {
    detail: `Too many failed sign-ins. Try again in ${durationInWords(retryAfter)}, or reset your password.`,
    extra: { lockedUntil: until.toISOString() },
    retryAfter,
  });
}

/**
 * A login as the lock counts it: sign-up's e-mail normalisation (trimmed, NFC), lower-case
 * (so "Ann", " ann" and "ANN" are one).
 */
export function normalizeLogin(login: string): string {
  return normalizeEmail(login).toLowerCase();
}

/**
 * Where an attempt comes from: an IPv4 address, or the /64 of an IPv6 one (one household
 * or server gets a whole /64, so counting single IPv6 addresses would count nothing).
 */
export function sourceOf(ip: string | null): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return 'unknown';
  const [head = '', tail = ''] = ip.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
