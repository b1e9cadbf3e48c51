import { findAccountById } from '../accounts/queries.js';
import { addSeconds, type Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/database.js';
import type { AccountRow, SessionRow } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';

/** What other marketplace services ask about, and what each needs. */
export const ACTIONS = ['post_job', 'submit_proposal', 'view_payments', 'withdraw_funds'] as const;
export type Action = (typeof ACTIONS)[number];

const requirements: Record<Action, { phone: boolean; email: boolean; stepUp: boolean }> = {
  post_job: { phone: true, email: true, stepUp: false },
  submit_proposal: { phone: true, email: true, stepUp: false },
  view_payments: { phone: true, email: true, stepUp: true },
  withdraw_funds: { phone: true, email: true, stepUp: true },
};

export type Reason = 'phone_verification_required' | 'email_verification_required' | 'step_up_required' | 'account_locked' | 'account_closed';

export interface Decision {
  allowed: boolean;
  reasons: Reason[];
}

/**
 * The gate: may this account do this now? Every reason that stands in the way is listed,
 * so a service can tell the member everything to fix at once. A closed account only gets
 * account_closed (nothing else can be fixed on it).
 */
export class GateService {
  constructor(private readonly deps: { db: Db; clock: Clock; idleSeconds: number }) {}

  /** For a service key: there is no session, so a step-up counts if any live session of the account is elevated now. */
  async check(accountId: string, action: Action): Promise<Decision> {
    const account = await findAccountById(this.deps.db, accountId);
    if (!account) throw new AppError('not_found', { detail: 'No account has this id.' });
    const facts = await this.facts(account);
    const elevated = requirements[action].stepUp ? await this.anySessionElevated(account.id) : false;
    return decide(account, action, { ...facts, elevated });
  }

  /** For the member: the step-up is the current session's. */
  async permissions(account: AccountRow, session: SessionRow): Promise<Record<Action, Decision>> {
    const facts = await this.facts(account);
    const now = this.deps.clock.now();
    const elevated = session.elevated_until !== null && session.elevated_until > now;
    return Object.fromEntries(ACTIONS.map((action) => [action, decide(account, action, { ...facts, elevated })])) as Record<Action, Decision>;
  }

  private async facts(account: AccountRow): Promise<{ phoneVerified: boolean }> {
    const phone = await this.deps.db.selectFrom('phone_numbers').select('account_id').where('account_id', '=', account.id).executeTakeFirst();
    return { phoneVerified: !!phone };
  }

  private async anySessionElevated(accountId: string): Promise<boolean> {
    const now = this.deps.clock.now();
    const row = await this.deps.db
      .selectFrom('sessions')
      .select('id')
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .where('last_seen_at', '>', addSeconds(now, -this.deps.idleSeconds))
      .where('elevated_until', '>', now)
      .limit(1)
      .executeTakeFirst();
    return !!row;
  }
}

function decide(account: AccountRow, action: Action, facts: { phoneVerified: boolean; elevated: boolean }): Decision {
  if (account.status === 'closed') return { allowed: false, reasons: ['account_closed'] };
  const needs = requirements[action];
  const reasons: Reason[] = [];
  if (account.status === 'locked') reasons.push('account_locked');
  if (needs.email && !account.email_verified_at) reasons.push('email_verification_required');
  if (needs.phone && !facts.phoneVerified) reasons.push('phone_verification_required');
  if (needs.stepUp && !facts.elevated) reasons.push('step_up_required');
  return { allowed: reasons.length === 0, reasons };
}
