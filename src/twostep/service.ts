import type { Kysely, Transaction } from 'kysely';
import { findAccountById } from '../accounts/queries.js';
import type { AccountView } from '../accounts/view.js';
import { findVerifiedPhone } from '../phone/queries.js';
import type { RequestMeta } from '../platform/audit.js';
import type { DB, MemberAccount, TwoStepType } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import { applyChange, type ChangeDeps } from './changes.js';
import { BACKUP_CODES_LOW, BackupCodesMethod } from './methods/backup-codes.js';
import { EmailCodeMethod, maskEmail } from './methods/email.js';
import { PasskeysMethod, type PasskeyView } from './methods/passkeys.js';
import { SecurityQuestionMethod } from './methods/security-question.js';
import { PhoneCodeMethod, phoneHint } from './methods/sms.js';
import { TotpMethod } from './methods/totp.js';
import { listMethods, listMethodsWithSuspension, removeMethod, type MethodRow } from './queries.js';
import { confirmSuspended, suspendRecent, type SuspensionActor } from './suspension.js';

export type TwoStepDeps = ChangeDeps;

const LABELS: Record<TwoStepType, string> = {
  sms: 'Text messages',
  voice: 'Voice calls',
  email: 'E-mail codes',
  totp: 'The authenticator app',
  security_question: 'The security question',
  backup_code: 'Backup codes',
  passkey: 'Every passkey',
};

export interface MethodView {
  type: TwoStepType;
  addedAt: string;
  /** Backup codes only: how many are still unused. */
  remaining?: number;
  /** Held back after a lock for compromise until confirmed (or removed); not offered at challenges. */
  suspended: boolean;
  suspendedAt?: string;
}

/** GET /v1/me/two-step. */
export interface TwoStepOverview {
  enabled: boolean;
  methods: MethodView[];
  recommendation?: { code: 'turn_on' | 'add_second_method' | 'new_backup_codes' | 'confirm_suspended'; message: string };
  backupCodes: { remaining: number; low: boolean } | null;
  passkeys: PasskeyView[];
  securityQuestion: { id: string; text: string } | null;
}

/** One method as a challenge lists it, with the hint that helps the member pick it. */
export interface ChallengeMethod {
  type: TwoStepType;
  hint?: string;
  question?: string;
}

/** Two-step verification settings, and the methods' verify functions for challenges. */
export class TwoStepService {
  readonly totp: TotpMethod;
  readonly backupCodes: BackupCodesMethod;
  readonly securityQuestion: SecurityQuestionMethod;
  readonly passkeys: PasskeysMethod;
  readonly phoneCodes: PhoneCodeMethod;
  readonly emailCodes: EmailCodeMethod;

  constructor(private readonly deps: TwoStepDeps) {
    this.totp = new TotpMethod(deps);
    this.backupCodes = new BackupCodesMethod(deps);
    this.securityQuestion = new SecurityQuestionMethod(deps);
    this.passkeys = new PasskeysMethod(deps);
    this.phoneCodes = new PhoneCodeMethod(deps);
    this.emailCodes = new EmailCodeMethod(deps);
  }

  /** 2SV is on while at least one method is confirmed (the gate asks this for payments). */
  async isEnabled(accountId: string): Promise<boolean> {
    return (await listMethods(this.deps.db, accountId)).length > 0;
  }

  /** GET /v1/me: twoStep {enabled, methods}. */
  readonly viewPart = async (account: MemberAccount, view: AccountView): Promise<void> => {
    const rows = await listMethods(this.deps.db, account.id);
    view.twoStep = { enabled: rows.length > 0, methods: rows.map((r) => r.type) };
  };

  /** Every method, suspended ones marked; `enabled` counts only usable ones (a suspended method is not 2SV yet). */
  async overview(accountId: string): Promise<TwoStepOverview> {
    const { db } = this.deps;
    const all = await listMethodsWithSuspension(db, accountId);
    const rows = all.filter((r) => r.suspended_at === null);
    const has = (type: TwoStepType) => all.some((r) => r.type === type);
    const remaining = has('backup_code') ? await BackupCodesMethod.remaining(db, accountId) : null;
    const methods = all.map((r): MethodView => ({
      type: r.type,
      addedAt: r.added_at.toISOString(),
      ...(r.type === 'backup_code' ? { remaining: remaining ?? 0 } : {}),
      suspended: r.suspended_at !== null,
      ...(r.suspended_at ? { suspendedAt: r.suspended_at.toISOString() } : {}),
    }));
    const overview: TwoStepOverview = {
      enabled: rows.length > 0,
      methods,
      backupCodes: remaining === null ? null : { remaining, low: remaining <= BACKUP_CODES_LOW },
      passkeys: has('passkey') ? await this.passkeys.list(accountId) : [],
      securityQuestion: has('security_question') ? await SecurityQuestionMethod.question(db, accountId) : null,
    };
    const recommendation = rows.length < all.length ? SUSPENDED_ADVICE : recommend(rows, remaining);
    if (recommendation) overview.recommendation = recommendation;
    return overview;
  }

  /**
   * Turns one method off (`passkey`: every passkey). Removing the last method turns 2SV off;
   * the member is told either way.
   */
  async remove(accountId: string, type: TwoStepType, meta: RequestMeta): Promise<void> {
    await applyChange(this.deps, accountId, meta, async (trx) => {
      // A suspended method can be removed too: that is one of the two ways out of a suspension.
      const on = (await listMethodsWithSuspension(trx, accountId)).some((r) => r.type === type);
      if (!on) throw new AppError('not_found', { detail: 'This two-step method is not turned on.' });
      await removeMethod(trx, accountId, type);
      await removeDetails(trx, accountId, type);
      return { result: undefined, change: { event: 'two_step.method_removed', type, summary: `${LABELS[type]} can no longer be used as a two-step method on your account.` } };
    });
  }

  /**
   * Turns every method off in the caller's transaction (an approved security reset taking
   * effect); their secrets go with them. Returns the types that were on.
   */
  async removeAll(trx: Transaction<DB>, accountId: string): Promise<TwoStepType[]> {
    const types = (await listMethodsWithSuspension(trx, accountId)).map((r) => r.type);
    await trx.deleteFrom('two_step_methods').where('account_id', '=', accountId).execute();
    for (const type of ['totp', 'backup_code', 'security_question', 'passkey'] as const) await removeDetails(trx, accountId, type);
    return types;
  }

  /** What a support agent may see: the kinds of method and the passkeys' names, never a secret. */
  async staffSummary(accountId: string): Promise<{ methods: Array<{ type: TwoStepType; addedAt: string; suspended: boolean }>; passkeyNames: string[] }> {
    // Suspended methods too, marked: the agent may be the one to confirm them (confirmSuspended).
    const rows = await listMethodsWithSuspension(this.deps.db, accountId);
    const passkeyNames = rows.some((r) => r.type === 'passkey') ? await PasskeysMethod.names(this.deps.db, accountId) : [];
    return { methods: rows.map((r) => ({ type: r.type, addedAt: r.added_at.toISOString(), suspended: r.suspended_at !== null })), passkeyNames };
  }

  /**
   * After "this wasn't me" or a compromise report (recovery/service.ts), in the lock's
   * transaction: every method set up in the last 24 hours is suspended (suspension.ts).
   */
  suspendRecent(trx: Kysely<DB>, accountId: string, meta: RequestMeta, reason: string): Promise<TwoStepType[]> {
    return suspendRecent(trx, accountId, this.deps.clock.now(), meta, reason);
  }

  /**
   * Lifts the suspension of one method (404 not_found when it is not suspended). The caller
   * vouches for the actor: the member's routes require a fresh step-up; a support-desk
   * helper checks the agent's role first. Audited (an agent as the actor) and e-mailed.
   */
  confirmSuspended(accountId: string, type: TwoStepType, actor: SuspensionActor): Promise<void> {
    return confirmSuspended(this.deps, accountId, type, actor, LABELS[type]);
  }

  /**
   * PhoneService's removal guard: while codes by text or call are the only way to pass 2SV,
   * the phone cannot go (the member would lose 2SV without choosing to).
   */
  async phoneRemovalGuard(accountId: string): Promise<void> {
    const rows = await listMethods(this.deps.db, accountId);
    if (rows.length > 0 && rows.every((r) => r.type === 'sms' || r.type === 'voice')) {
      throw new AppError('last_two_step_method', { detail: 'Codes to this phone are your only two-step method. Add another method before removing the number.' });
    }
  }

  /** Whether `type` is on for the account and can be used now (backup codes: some left). */
  async usable(accountId: string, type: TwoStepType): Promise<boolean> {
    const rows = await listMethods(this.deps.db, accountId);
    if (!rows.some((r) => r.type === type)) return false;
    return type === 'backup_code' ? (await BackupCodesMethod.remaining(this.deps.db, accountId)) > 0 : true;
  }

  /** What helps the member pick a method at a challenge: the phone's last digits, the question... */
  async hint(account: MemberAccount, type: TwoStepType): Promise<{ hint?: string; question?: string }> {
    const { db } = this.deps;
    switch (type) {
      case 'sms':
      case 'voice': {
        const phone = await findVerifiedPhone(db, account.id);
        return phone ? { hint: phoneHint(phone.e164) } : {};
      }
      case 'email':
        return { hint: maskEmail(account.email) };
      case 'security_question': {
        const question = await SecurityQuestionMethod.question(db, account.id);
        return question ? { question: question.text } : {};
      }
      case 'passkey':
        return { hint: (await PasskeysMethod.names(db, account.id)).join(', ') };
      case 'backup_code':
        return { hint: `${await BackupCodesMethod.remaining(db, account.id)} left` };
      case 'totp':
        return {};
    }
  }

  /** Every usable method of the account with its hint, in the order they were added. */
  async challengeMethods(accountId: string): Promise<ChallengeMethod[]> {
    const account = await findAccountById(this.deps.db, accountId);
    if (!account) return [];
    const out: ChallengeMethod[] = [];
    for (const { type } of await listMethods(this.deps.db, accountId)) {
      if (await this.usable(accountId, type)) out.push({ type, ...(await this.hint(account, type)) });
    }
    return out;
  }
}

async function removeDetails(trx: Transaction<DB>, accountId: string, type: TwoStepType): Promise<void> {
  if (type === 'totp') await TotpMethod.remove(trx, accountId);
  else if (type === 'backup_code') await BackupCodesMethod.remove(trx, accountId);
  else if (type === 'security_question') await SecurityQuestionMethod.remove(trx, accountId);
  else if (type === 'passkey') await PasskeysMethod.removeAll(trx, accountId);
}

const SUSPENDED_ADVICE: TwoStepOverview['recommendation'] = {
  code: 'confirm_suspended',
  message: 'Methods set up in the day before your account was locked are on hold. Confirm the ones you added yourself; remove any you do not recognise.',
};

/** One nudge at a time: turn 2SV on, then keep two methods, then refill backup codes. */
function recommend(rows: MethodRow[], backupLeft: number | null): TwoStepOverview['recommendation'] {
  if (rows.length === 0) {
    return { code: 'turn_on', message: 'Turn on two-step verification so a stolen password alone cannot open your account. An authenticator app is a good start.' };
  }
  if (rows.length === 1) {
    return { code: 'add_second_method', message: 'Add a second method, such as backup codes, so you can still sign in if you lose this one.' };
  }
  if (backupLeft !== null && backupLeft <= BACKUP_CODES_LOW) {
    return { code: 'new_backup_codes', message: `Only ${backupLeft} backup ${backupLeft === 1 ? 'code is' : 'codes are'} left. Create new ones and keep them somewhere safe.` };
  }
  return undefined;
}
