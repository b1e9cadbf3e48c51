import { listMethods } from '../twostep/queries.js';
import { maskEmail, type ChallengeMethod } from './methods.js';
import { sentCodeMethod } from './sent-code.js';

/**
 * A code e-mailed to the account's address. Offered at a sign-in challenged because of many
 * failures (the owner's way in while a botnet guesses); otherwise to a verified address when
 * the member chose e-mail codes as a two-step method, or, for an account without 2SV, at a
 * step-up or recovery (its only second step). With 2SV on, an inbox alone is not a second step
 * the member chose, so it does not stand in for their methods.
 */
export const emailCodeMethod: ChallengeMethod = sentCodeMethod({
  type: 'email',
  channel: 'email',
  template: 'challenge-code',
  destination: async (_ctx, account) => account.email,
  offered: async (ctx, account, occasion) => {
    if (occasion.reason === 'many_failures') return true;
    if (account.email_verified_at === null) return false;
    const methods = await listMethods(ctx.db, account.id);
    if (methods.some((m) => m.type === 'email')) return true;
    return occasion.purpose !== 'login' && methods.length === 0;
  },
  hint: async (_ctx, account) => ({ hint: maskEmail(account.email) }),
});
