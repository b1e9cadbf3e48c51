import type { RequestMeta } from '../../platform/audit.js';
import { findVerifiedPhone } from '../../phone/queries.js';
import { AppError } from '../../platform/errors.js';
import { applyChange, type ChangeDeps } from '../changes.js';
import { addMethod } from '../queries.js';

export type PhoneMethod = 'sms' | 'voice';

const NAMES: Record<PhoneMethod, string> = { sms: 'Text messages', voice: 'Voice calls' };

/**
 * Codes by text message or voice call to the verified phone. Turning it on needs a verified
 * number; the codes themselves are sent and checked by the challenge, through the one code
 * module phone verification uses. The method follows the phone: while no number is verified
 * it is not listed (queries.listMethods).
 */
export class PhoneCodeMethod {
  constructor(private readonly deps: ChangeDeps) {}

  async enable(accountId: string, method: PhoneMethod, meta: RequestMeta): Promise<void> {
    const phone = await findVerifiedPhone(this.deps.db, accountId);
    if (!phone) throw new AppError('phone_verification_required', { detail: 'Verify your phone number first, then turn on codes by text or call.' });
    await applyChange(this.deps, accountId, meta, async (trx, now) => {
      const added = await addMethod(trx, accountId, method, now);
      return {
        result: undefined,
        change: added
          ? { event: 'two_step.method_added', type: method, summary: `${NAMES[method]} to ${maskPhone(phone.e164)} were added as a two-step method.` }
          : null,
      };
    });
  }
}

/** "•••• 23": the last two digits, the hint a challenge shows. */
export function phoneHint(e164: string): string {
  return `•••• ${e164.slice(-2)}`;
}

function maskPhone(e164: string): string {
  return `the number ending in ${e164.slice(-2)}`;
}
