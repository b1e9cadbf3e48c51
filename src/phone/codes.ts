import { constantTimeEqual, hmac, randomDigits, type Random } from '../platform/crypto.js';

/**
 * The one-time code recipe for phone verification, in one place: six digits from a CSPRNG,
 * only an HMAC at rest (bound to the account and the number), ten minutes to use it, five
 * wrong tries, and a resend cooldown that grows.
 */
export const CODE_DIGITS = 6;
export const CODE_TTL_SECONDS = 10 * 60;
/** Wrong tries per code; the attempt is counted before comparing, so this is a hard cap. */
export const MAX_ATTEMPTS = 5;
/** Codes (SMS or calls) one verification may send; then the member starts again. */
export const MAX_SENDS = 5;
/** Wait after the 1st, 2nd, 3rd, 4th and later send before another code may be sent. */
export const RESEND_COOLDOWNS = [30, 60, 120, 300] as const;
/**
 * A new verification started within this long of the previous send keeps growing the
 * cooldown, so starting over is no way around it.
 */
export const STREAK_WINDOW_SECONDS = 60 * 60;

export function newCode(random: Random): string {
  return randomDigits(random, CODE_DIGITS);
}

/** Seconds to wait after the `streak`-th send in a row (1-based). */
export function cooldownSeconds(streak: number): number {
  const index = Math.min(Math.max(streak, 1), RESEND_COOLDOWNS.length) - 1;
  return RESEND_COOLDOWNS[index]!;
}

export function codeHash(key: Buffer, accountId: string, e164: string, code: string): string {
  return hmac(key, 'phone-code', accountId, e164, code).toString('hex');
}

/** Constant-time comparison of a typed code with the stored HMAC. */
export function codeMatches(key: Buffer, stored: { account_id: string; e164: string; code_hash: string }, code: string): boolean {
  const expected = Buffer.from(stored.code_hash, 'hex');
  return constantTimeEqual(Buffer.from(codeHash(key, stored.account_id, stored.e164, code), 'hex'), expected);
}

/** What a member typed, without the spaces or dashes people add; null if it cannot be a code. */
export function normalizeCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  return /^\d+$/.test(digits) && digits.length === CODE_DIGITS ? digits : null;
}

/** "1, 2, 3, 4, 5, 6": text-to-speech reads each digit, with a pause between. */
export function spokenCode(code: string): string {
  return code.split('').join(', ');
}
