import type { AccountService } from '../accounts/service.js';
import type { ChallengeService } from '../challenges/service.js';
import { noMeta } from '../platform/audit.js';
import type { RecoveryTwoStep } from './service.js';

/**
 * Before a reset, an account with 2SV passes a `recovery` challenge tied to its link: the
 * challenge's reason names the link's key, so a challenge passed for one link opens no other.
 */
export function recoveryTwoStep(deps: {
  twoStep: Pick<RecoveryTwoStep, 'isEnabled' | 'suspendRecent'>;
  challenges: ChallengeService;
  accounts: AccountService;
}): RecoveryTwoStep {
  const reason = (resetKey: string) => `password_reset:${resetKey}`;
  return {
    isEnabled: (accountId) => deps.twoStep.isEnabled(accountId),
    challengeFor: async (accountId, resetKey) => {
      const account = await deps.accounts.get(accountId);
      return { ...(await deps.challenges.open({ purpose: 'recovery', account, reason: reason(resetKey) }, noMeta)) };
    },
    passedFor: (accountId, resetKey) => deps.challenges.hasPassed(accountId, 'recovery', reason(resetKey)),
    suspendRecent: (trx, accountId, meta, why) => deps.twoStep.suspendRecent(trx, accountId, meta, why),
  };
}
