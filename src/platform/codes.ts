import { durationInWords, secondsUntil } from './clock.js';
import { constantTimeEqual, hmac, randomDigits, type Random } from './crypto.js';
import { AppError } from './errors.js';

/**
 * The one recipe for every short one-time code a member types (phone verification, e-mailed
 * and texted sign-in codes): six digits from a CSPRNG, only an HMAC at rest (bound to what the
 * code proves), ten minutes to use it, five wrong tries counted before comparing, a constant-
 * time compare, and a resend cooldown that grows. Each table that holds codes counts a try and
 * uses a code up with its own conditional UPDATE; the rules and the hashing live here.
 */
export const CODE_DIGITS = 6;
export const CODE_TTL_SECONDS = 10 * 60;
/** Wrong tries per code; the attempt is counted before comparing, so this is a hard cap. */
export const MAX_ATTEMPTS = 5;
/** Codes one verification (or one challenge's method) may send; then the member starts again. */
export const MAX_SENDS = 5;
/** Wait after the 1st, 2nd, 3rd, 4th and later send before another code may be sent. */
export const RESEND_COOLDOWNS = [30, 60, 120, 300] as const;

export function newCode(random: Random): string {
  return randomDigits(random, CODE_DIGITS);
}

/** Seconds to wait after the `streak`-th send in a row (1-based). */
export function cooldownSeconds(streak: number): number {
  const index = Math.min(Math.max(streak, 1), RESEND_COOLDOWNS.length) - 1;
  return RESEND_COOLDOWNS[index]!;
}

/**
 * The HMAC kept instead of the code. `purpose` and `binding` (an account id, a number, a
 * challenge id...) tie it to one use, so a code stolen from one flow proves nothing in another.
 */
export function codeHash(key: Buffer, purpose: string, binding: readonly string[], code: string): string {
  return hmac(key, purpose, ...binding, code).toString('hex');
}

/** Constant-time comparison of a typed code with the stored HMAC. */
export function codeMatches(key: Buffer, storedHex: string, purpose: string, binding: readonly string[], code: string): boolean {
  return constantTimeEqual(Buffer.from(codeHash(key, purpose, binding, code), 'hex'), Buffer.from(storedHex, 'hex'));
}

/** What a member typed, without the spaces or dashes people add; null if it cannot be a code. */
export function normalizeCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  return /^\d+$/.test(digits) && digits.length === CODE_DIGITS ? digits : null;
}

/** "You have 3 tries left." / the last-try sentence, for a wrong code. */
export function wrongCodeDetail(attemptsLeft: number): string {
  return attemptsLeft > 0
    ? `That code is not right. You have ${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left.`
    : 'That code is not right, and that was the last try for it. Ask for a new code.';
}

/** 429 resend_too_soon, saying how long to wait. */
export function resendTooSoon(now: Date, resendAfter: Date): AppError {
  const retryAfter = Math.max(1, secondsUntil(now, resendAfter));
  return new AppError('resend_too_soon', {
    detail: `Please wait ${durationInWords(retryAfter)} before asking for another code.`,
    retryAfter,
    extra: { resendAfter: resendAfter.toISOString() },
  });
}
