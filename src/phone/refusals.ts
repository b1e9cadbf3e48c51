import { secondsUntil } from '../platform/clock.js';
import type { PhoneVerificationRow } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';

/** Where a person whose number is on another account can go: that account is probably theirs. */
export const IN_USE_RECOVERY = [
  { rel: 'forgot_password', href: '/recover/password', title: 'Recover the account you already have' },
  { rel: 'contact_support', href: '/support/contact', title: 'Contact support' },
] as const;

/** One account per person: the number is verified on another live account. */
export function phoneInUse(): AppError {
  return new AppError('phone_in_use', {
    detail:
      'This phone number is already verified on another account. Each person may have one account: ' +
      'if that account is yours, recover it (reset your password) or contact support, then close the extra account.',
    extra: { recovery: IN_USE_RECOVERY.map((r) => ({ ...r })) },
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
