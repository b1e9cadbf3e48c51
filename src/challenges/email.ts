import { maskEmail, type ChallengeMethod } from './methods.js';
import { sentCodeMethod } from './sent-code.js';

/**
 * A code e-mailed to the account's address. Offered where the address is verified, and at a
 * sign-in challenged because of many failures (the owner's way in while a botnet guesses).
 */
export const emailCodeMethod: ChallengeMethod = sentCodeMethod({
  type: 'email',
  channel: 'email',
  template: 'challenge-code',
  destination: async (_ctx, account) => account.email,
  offered: async (_ctx, account, occasion) => account.email_verified_at !== null || occasion.reason === 'many_failures',
  hint: async (_ctx, account) => ({ hint: maskEmail(account.email) }),
});
