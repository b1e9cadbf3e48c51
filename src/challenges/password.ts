import { noMeta, type RequestMeta } from '../platform/audit.js';
import type { AccountRow } from '../platform/db/schema.js';
import { AppError, isAppError } from '../platform/errors.js';
import type { ChallengeMethod } from './methods.js';

/** Why a step-up is asked of an account that has no two-step method: its password will do. */
export const NO_TWO_STEP_REASON = 'step_up_without_two_step';

/**
 * The account's password, for a step-up of an account without two-step verification (with
 * 2SV on, a password alone never passes a challenge). Wrong guesses also count toward the
 * sign-in lock, through the sessions service's own check.
 */
export function passwordMethod(check: (account: AccountRow, password: string, meta: RequestMeta) => Promise<void>): ChallengeMethod {
  return {
    type: 'password',
    offered: async (_ctx, _account, occasion) => occasion.purpose === 'step_up' && occasion.reason === NO_TWO_STEP_REASON,
    hint: async () => ({}),
    async verify(_ctx, _challenge, account, input) {
      if (!input.password) {
        const error = new AppError('invalid_request', { detail: 'Enter your password.', extra: { errors: [{ path: '/password', message: 'Enter your password.' }] } });
        return { passed: false, error, counted: false };
      }
      try {
        await check(account, input.password, noMeta);
        return { passed: true };
      } catch (error) {
        if (!isAppError(error) || error.code !== 'invalid_credentials') throw error;
        return { passed: false, error: new AppError('answer_invalid', { detail: 'The password is not right.', extra: { errors: [{ path: '/password', message: 'The password is not right.' }] } }), counted: true };
      }
    },
  };
}
