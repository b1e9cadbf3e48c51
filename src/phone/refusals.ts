import { secondsUntil } from '../platform/clock.js';
import type { PhoneVerificationRow } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';

/** Where a person whose number is on another account can go: that account is probably theirs. */
export const IN_USE_RECOVERY = [
  { rel: 'forgot_password', href: '/recover/password', title: 'Recover the account you already have' },
  { rel: 'contact_support', href: '/support/contact', title: 'Contact support' },
] as const;

/** The help article that walks a member with two accounts through keeping one. */
export const DUPLICATE_ACCOUNT_HELP = { href: '/help/duplicate-account', title: 'I made a second account by mistake: keep one, close the other' } as const;

/**
 * One account per person: the number is verified on another live account. The answer never
 * names that account; its forgot-password link carries the request that mails a reset link to
 * whichever account holds the number (POST /v1/recovery/password with the number as login).
 */
export function phoneInUse(e164: string): AppError {
  const [forgot, support] = IN_USE_RECOVERY;
  return new AppError('phone_in_use', {
    detail:
      'This phone number is already verified on another account. Each person may have one account: ' +
      'if that account is yours, recover it (reset your password) or contact support, then close the extra account.',
    extra: {
      recovery: [{ ...forgot, request: { method: 'POST', path: '/v1/recovery/password', body: { login: e164 } } }, { ...support }],
      help: { ...DUPLICATE_ACCOUNT_HELP },
      // A recycled number: the person holds the line now, and the other account is someone else's.
      claim: { rel: 'claim_number', href: `/account/phone/claim?phone=${encodeURIComponent(e164)}`, title: 'This number is mine now', request: { method: 'POST', path: '/v1/me/phone/claim', body: { phone: e164 } } },
    },
  });
}

export { resendTooSoon } from '../platform/codes.js';

/** The code is dead after too many wrong tries; a new one can be asked for once the cooldown ends. */
export function tooManyAttempts(now: Date, pending: PhoneVerificationRow): AppError {
  const retryAfter = Math.max(1, secondsUntil(now, pending.resend_after));
  return new AppError('too_many_attempts', {
    detail: 'Too many wrong tries: this code no longer works. Ask for a new code.',
    retryAfter,
    extra: { attemptsLeft: 0, resendAfter: pending.resend_after.toISOString() },
  });
}
