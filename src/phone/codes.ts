import * as shared from '../platform/codes.js';

/**
 * Phone verification's use of the shared one-time-code recipe (src/platform/codes.ts): the
 * code is bound to the account and the number being verified.
 */
export { CODE_DIGITS, CODE_TTL_SECONDS, MAX_ATTEMPTS, MAX_SENDS, RESEND_COOLDOWNS, cooldownSeconds, newCode, normalizeCode } from '../platform/codes.js';
/**
 * A new verification of the same number started within this long of its previous send keeps
 * growing the cooldown, so starting over is no way around it. The cooldown is per number (a
 * corrected typo is not held up); the hourly and daily caps in limits.ts count every send.
 */
export const STREAK_WINDOW_SECONDS = 60 * 60;

export function codeHash(key: Buffer, accountId: string, e164: string, code: string): string {
  return shared.codeHash(key, 'phone-code', [accountId, e164], code);
}

/** Constant-time comparison of a typed code with the stored HMAC. */
export function codeMatches(key: Buffer, stored: { account_id: string; e164: string; code_hash: string }, code: string): boolean {
  return shared.codeMatches(key, stored.code_hash, 'phone-code', [stored.account_id, stored.e164], code);
}

/** "1, 2, 3, 4, 5, 6": text-to-speech reads each digit, with a pause between. */
export function spokenCode(code: string): string {
  return code.split('').join(', ');
}

/** The code of a "this number is mine now" claim: the same recipe, bound to the claim's purpose. */
export function claimCodeHash(key: Buffer, accountId: string, e164: string, code: string): string {
  return shared.codeHash(key, 'phone-claim', [accountId, e164], code);
}

export function claimCodeMatches(key: Buffer, stored: { account_id: string; e164: string; code_hash: string }, code: string): boolean {
  return shared.codeMatches(key, stored.code_hash, 'phone-claim', [stored.account_id, stored.e164], code);
}
