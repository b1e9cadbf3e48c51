import type { PhoneVerificationStatus } from '../platform/db/schema.js';

/**
 * A phone verification's states. Only a pending verification moves, and only once:
 * - verified: the right code was entered; the number is on the account;
 * - replaced: the member started another verification;
 * - cancelled: the member removed the phone, the number was taken by another account
 *   meanwhile, or the account closed.
 * Every move is a conditional UPDATE ... WHERE status = 'pending' (see queries.finish).
 */
export const transitions = {
  pending: ['verified', 'replaced', 'cancelled'],
  verified: [],
  replaced: [],
  cancelled: [],
} as const satisfies Record<PhoneVerificationStatus, readonly PhoneVerificationStatus[]>;

export type FinalStatus = (typeof transitions)['pending'][number];
