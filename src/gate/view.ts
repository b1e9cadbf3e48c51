import { ACTIONS, type Action, type Decision, type Reason } from './service.js';

/** One thing still to do before an action is allowed, as a link to the page that does it. */
export interface Step {
  reason: string;
  label: string;
  href: string | null;
}

/** An action of the "What you can do" panel on /account. */
export interface ActionCard {
  action: Action;
  label: string;
  allowed: boolean;
  steps: Step[];
}

const labels: Record<Action, string> = {
  post_job: 'Post a job',
  submit_proposal: 'Submit a proposal',
  view_payments: 'View payments',
  withdraw_funds: 'Withdraw funds',
};

// Every reason API.md names has words, including ones this gate may not emit yet
// (two_step_required arrives with two-step verification).
type AnyReason = Reason | 'two_step_required';

/** The resend form sits on /account itself, so the e-mail step is an anchor to it. */
const steps: Record<AnyReason, Omit<Step, 'reason'>> = {
  email_verification_required: { label: 'Verify your e-mail address', href: '#verify-email' },
  phone_verification_required: { label: 'Verify your phone number', href: '/account/phone' },
  two_step_required: { label: 'Turn on two-step verification', href: '/account/security#two-step' },
  // A step-up lasts minutes: payments ask for it again each time, which the security page explains.
  step_up_required: { label: "Confirm it's you with two-step verification", href: '/account/security#two-step' },
  // Every lock a member meets (not-me, a compromise report, an agent's) ends with a reset by the e-mailed link.
  account_locked: { label: 'Your account is locked for your protection: reset your password by e-mail to get back in', href: '/recover/password' },
  account_closed: { label: 'This account is closed', href: null },
};

/** The gate's decisions (the same as GET /v1/me/permissions) in words, in the API's action order. */
export function actionCards(decisions: Record<Action, Decision>): ActionCard[] {
  return ACTIONS.map((action) => {
    const { allowed, reasons } = decisions[action];
    return { action, label: labels[action], allowed, steps: reasons.map((reason: AnyReason) => ({ reason, ...steps[reason] })) };
  });
}
