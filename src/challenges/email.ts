import { listMethods } from '../twostep/queries.js';
import { maskEmail, type ChallengeMethod } from './methods.js';
import { NO_TWO_STEP_REASON } from './password.js';
import { sentCodeMethod } from './sent-code.js';

/**
 * A code e-mailed to the account's address. With 2SV on, it is one of the member's methods
 * only when they chose e-mail codes (to a confirmed address): an inbox they did not choose
 * does not stand in for their methods, not even at a sign-in under attack, or a thief with
 * the password and the mailbox could set off the attack signal and skip the authenticator.
 * Never at a recovery: the reset link came to that inbox, so a code to it proves nothing
 * more (the check after a reset link is there for someone who got into the e-mail alone).
 * Without 2SV, it is the sign-in's second step under attack (the owner's way in while a
 * botnet guesses), and with the password a step-up's way (to a confirmed address).
 */
export const emailCodeMethod: ChallengeMethod = sentCodeMethod({
  type: 'email',
  channel: 'email',
  template: 'challenge-code',
  destination: async (_ctx, account) => account.email,
  offered: async (ctx, account, occasion) => {
    if (occasion.purpose === 'recovery') return false;
    const verified = account.email_verified_at !== null;
    const methods = await listMethods(ctx.db, account.id);
    // A step-up asked without 2SV, or of a member none of whose methods can be used now.
    if (occasion.purpose === 'step_up' && (methods.length === 0 || occasion.reason === NO_TWO_STEP_REASON)) return verified;
    if (methods.length > 0) return verified && methods.some((m) => m.type === 'email');
    return occasion.reason === 'many_failures';
  },
  hint: async (_ctx, account) => ({ hint: maskEmail(account.email) }),
});
