import type { Transaction } from 'kysely';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { DB } from '../platform/db/schema.js';
import { cancelPending, deleteVerifiedPhone } from './queries.js';

/**
 * Frees an account's phone number when the account closes, in the closing transaction:
 * a closed account holds no number, so the number can verify another (live) account.
 * Every path that closes an account must call this, and tell the member in its e-mail
 * (the released number, or null when the account had none).
 */
export async function releasePhoneOnClose(trx: Transaction<DB>, accountId: string, now: Date, meta?: RequestMeta): Promise<string | null> {
  const released = await deleteVerifiedPhone(trx, accountId);
  await cancelPending(trx, accountId, now);
  if (released) {
    await recordAudit(trx, now, { event: 'phone.released', accountId, meta, details: { number: released.e164, reason: 'account_closed' } });
  }
  return released?.e164 ?? null;
}
