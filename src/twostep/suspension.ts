import type { Kysely } from 'kysely';
import { findVerifiedPhone } from '../phone/queries.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds } from '../platform/clock.js';
import type { DB, TwoStepType } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import { applyChange, type ChangeDeps } from './changes.js';
import { listMethods, suspendMethods, unsuspendMethod } from './queries.js';

/** A method set up this recently before a lock for compromise is held back until confirmed. */
export const SUSPEND_RECENT_SECONDS = 24 * 3600;

/** Who confirms a suspended method: the member (the route has checked a fresh step-up) or a support agent. */
export type SuspensionActor = { kind: 'member'; meta: RequestMeta } | { kind: 'agent'; agentId: string; meta: RequestMeta };

/**
 * When each method's current secret was set up. A method's row keeps the date it was first
 * turned on, but a replaced app, new backup codes, a changed answer, a new passkey or a new
 * phone number are as new as a method added today: an intruder's own app replaces the
 * member's without adding a row.
 */
async function setUpTimes(db: Kysely<DB>, accountId: string): Promise<Partial<Record<TwoStepType, Date>>> {
  const totp = await db.selectFrom('totp_credentials').select('confirmed_at').where('account_id', '=', accountId).where('confirmed_at', 'is not', null).executeTakeFirst();
  const codes = await db.selectFrom('backup_codes').select((eb) => eb.fn.max('created_at').as('at')).where('account_id', '=', accountId).executeTakeFirst();
  const answer = await db.selectFrom('security_answers').select('updated_at').where('account_id', '=', accountId).executeTakeFirst();
  const passkey = await db.selectFrom('passkeys').select((eb) => eb.fn.max('created_at').as('at')).where('account_id', '=', accountId).executeTakeFirst();
  const phone = await findVerifiedPhone(db, accountId);
  const date = (value: unknown) => (value ? new Date(value as string | Date) : undefined);
  const times: Partial<Record<TwoStepType, Date>> = {};
  const put = (type: TwoStepType, at: Date | undefined) => {
    if (at) times[type] = at;
  };
  put('totp', date(totp?.confirmed_at));
  put('backup_code', date(codes?.at));
  put('security_question', date(answer?.updated_at));
  put('passkey', date(passkey?.at));
  put('sms', date(phone?.verified_at));
  put('voice', date(phone?.verified_at));
  return times;
}

/**
 * Suspends every usable method set up in the 24 hours before `now`, in the lock's own
 * transaction: an intruder who added their own app or phone cannot use it to pass the
 * reset's check or to sign in again. Returns the types it suspended.
 */
export async function suspendRecent(trx: Kysely<DB>, accountId: string, now: Date, meta: RequestMeta, reason: string): Promise<TwoStepType[]> {
  const since = addSeconds(now, -SUSPEND_RECENT_SECONDS);
  const times = await setUpTimes(trx, accountId);
  const recent = (await listMethods(trx, accountId)).filter((m) => {
    const at = times[m.type] && times[m.type]! > m.added_at ? times[m.type]! : m.added_at;
    return at > since;
  });
  const suspended = await suspendMethods(trx, accountId, recent.map((m) => m.type), now);
  if (suspended.length > 0) await recordAudit(trx, now, { event: 'two_step.methods_suspended', accountId, meta, details: { types: suspended, reason } });
  return suspended;
}

/**
 * Ends a suspension: the method counts again. The member is told by e-mail with a "this
 * wasn't me" link, like any change of 2SV; the audit names who confirmed it.
 */
export async function confirmSuspended(deps: ChangeDeps, accountId: string, type: TwoStepType, actor: SuspensionActor, label: string): Promise<void> {
  const by = actor.kind === 'agent' ? 'by Verity support' : 'by you, after confirming it is you';
  await applyChange(deps, accountId, actor.meta, async (trx) => {
    if (!(await unsuspendMethod(trx, accountId, type))) throw new AppError('not_found', { detail: 'This two-step method is not suspended.' });
    return {
      result: undefined,
      change: {
        event: 'two_step.method_confirmed',
        type,
        summary: `${label} can be used again: the suspension after your account was locked was lifted ${by}.`,
        details: { by: actor.kind },
        ...(actor.kind === 'agent' ? { actorId: actor.agentId } : {}),
      },
    };
  });
}
