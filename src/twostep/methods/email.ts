import { findAccountById } from '../../accounts/queries.js';
import type { RequestMeta } from '../../platform/audit.js';
import { AppError } from '../../platform/errors.js';
import { applyChange, type ChangeDeps } from '../changes.js';
import { addMethod } from '../queries.js';

/**
 * Codes by e-mail to the account's verified address. Turning it on needs the address
 * verified; codes are sent and checked by the challenge, through the shared code module.
 */
export class EmailCodeMethod {
  constructor(private readonly deps: ChangeDeps) {}

  async enable(accountId: string, meta: RequestMeta): Promise<void> {
    const account = await findAccountById(this.deps.db, accountId);
    if (!account) throw new AppError('not_found');
    if (!account.email_verified_at) {
      throw new AppError('email_verification_required', { detail: 'Confirm your e-mail address first (use the link we sent you), then turn on e-mail codes.' });
    }
    await applyChange(this.deps, accountId, meta, async (trx, now) => {
      const added = await addMethod(trx, accountId, 'email', now);
      return {
        result: undefined,
        change: added ? { event: 'two_step.method_added', type: 'email', summary: `Codes by e-mail to ${maskEmail(account.email)} were added as a two-step method.` } : null,
      };
    });
  }
}

/** "j•••@example.com": the first character of the name and the domain, the challenge's hint. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '•••';
  return `${email.slice(0, 1)}•••${email.slice(at)}`;
}
