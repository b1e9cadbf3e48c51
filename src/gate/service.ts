import type { AccountRow, MemberAccount, SessionRow } from '../platform/db/schema.js';
import type { Clock } from '../platform/clock.js';

/** What other marketplace services ask about, and what each needs. */
export const ACTIONS = ['post_job', 'submit_proposal', 'view_payments', 'withdraw_funds'] as const;
export type Action = (typeof ACTIONS)[number];

/** Payments need 2SV turned on and a fresh check of it in the session that acts (step-up). */
const requirements: Record<Action, { phone: boolean; email: boolean; twoStep: boolean }> = {
  post_job: { phone: true, email: true, twoStep: false },
  submit_proposal: { phone: true, email: true, twoStep: false },
  view_payments: { phone: true, email: true, twoStep: true },
  withdraw_funds: { phone: true, email: true, twoStep: true },
};

export const REASONS = [
  'phone_verification_required',
  'email_verification_required',
  'two_step_required',
  'step_up_required',
  'account_locked',
  'account_closed',
] as const;
export type Reason = (typeof REASONS)[number];

export interface Decision {
  allowed: boolean;
  reasons: Reason[];
}

/** The gate asks the domains that own each fact; it reads no table of its own. */
export interface GateDeps {
  clock: Clock;
  accounts: { get(accountId: string): Promise<AccountRow> };
  phone: { hasVerifiedPhone(accountId: string): Promise<boolean> };
  sessions: { isElevated(accountId: string, sessionId: string): Promise<boolean> };
  twoStep: { isEnabled(accountId: string): Promise<boolean> };
}

interface Facts {
  phoneVerified: boolean;
  twoStepEnabled: boolean;
  elevated: boolean;
}

/**
 * The gate: may this account do this now? Every reason that stands in the way is listed,
 * so a service can tell the member everything to fix at once. A closed account only gets
 * account_closed (nothing else can be fixed on it).
 */
export class GateService {
  constructor(private readonly deps: GateDeps) {}

  /**
   * For a service key. A step-up belongs to one session: the service names the session it
   * acts for, and without one the payment actions answer step_up_required.
   */
  async check(accountId: string, action: Action, sessionId?: string): Promise<Decision> {
    const account = await this.deps.accounts.get(accountId);
    const needsStepUp = requirements[action].twoStep;
    const [facts, elevated] = await Promise.all([
      this.facts(account.id),
      needsStepUp && sessionId ? this.deps.sessions.isElevated(account.id, sessionId) : Promise.resolve(false),
    ]);
    return decide(account, action, { ...facts, elevated });
  }

  /** For the member: the step-up is the current session's. */
  async permissions(account: MemberAccount, session: SessionRow): Promise<Record<Action, Decision>> {
    const facts = await this.facts(account.id);
    const elevated = session.elevated_until !== null && session.elevated_until > this.deps.clock.now();
    return Object.fromEntries(ACTIONS.map((action) => [action, decide(account, action, { ...facts, elevated })])) as Record<Action, Decision>;
  }

  private async facts(accountId: string): Promise<Omit<Facts, 'elevated'>> {
    const [phoneVerified, twoStepEnabled] = await Promise.all([this.deps.phone.hasVerifiedPhone(accountId), this.deps.twoStep.isEnabled(accountId)]);
    return { phoneVerified, twoStepEnabled };
  }
}

function decide(account: MemberAccount, action: Action, facts: Facts): Decision {
  if (account.status === 'closed') return { allowed: false, reasons: ['account_closed'] };
  const needs = requirements[action];
  const reasons: Reason[] = [];
  if (account.status === 'locked') reasons.push('account_locked');
  if (needs.email && !account.email_verified_at) reasons.push('email_verification_required');
  if (needs.phone && !facts.phoneVerified) reasons.push('phone_verification_required');
  if (needs.twoStep && !facts.twoStepEnabled) reasons.push('two_step_required');
  if (needs.twoStep && !facts.elevated) reasons.push('step_up_required');
  return { allowed: reasons.length === 0, reasons };
}
