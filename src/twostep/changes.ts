import type { Transaction } from 'kysely';
import { findAccountById } from '../accounts/queries.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import type { Random } from '../platform/crypto.js';
import type { Db } from '../platform/db/database.js';
import type { DB, TwoStepType } from '../platform/db/schema.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { Secrets } from '../platform/secrets.js';
import { issueToken } from '../platform/tokens.js';
import { listMethods, lockAccount } from './queries.js';

export interface ChangeDeps {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  outbox: Outbox;
  publicUrl: string;
}

/** What one change did, for the audit log and the member's e-mail. */
export interface Change {
  /** Audit event, e.g. 'two_step.method_added'. */
  event: string;
  type: TwoStepType;
  /** The sentence the e-mail opens with ("An authenticator app was added…"). */
  summary: string;
  details?: Record<string, unknown>;
  /** Who made the change when it is not the member (a support agent); the audit names them. */
  actorId?: string;
}

export interface ChangeOutcome<T> {
  result: T;
  /** null when nothing changed: no audit entry, no e-mail. */
  change: Change | null;
}

/**
 * Every change to an account's two-step settings goes through here: one transaction with
 * the account row locked, the change itself, its audit entry (and `two_step.enabled` /
 * `two_step.disabled` when it turned 2SV on or off) and an e-mail to the member with a
 * single-use "this wasn't me" link; the e-mail leaves after the commit.
 */
export async function applyChange<T>(
  deps: ChangeDeps,
  accountId: string,
  meta: RequestMeta,
  work: (trx: Transaction<DB>, now: Date) => Promise<ChangeOutcome<T>>,
): Promise<T> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    await lockAccount(trx, accountId);
    const wasOn = (await listMethods(trx, accountId)).length > 0;
    const outcome = await work(trx, now);
    const change = outcome.change;
    if (!change) return outcome.result;
    const isOn = (await listMethods(trx, accountId)).length > 0;
    await recordAudit(trx, now, { event: change.event, accountId, actorId: change.actorId ?? null, meta, details: { type: change.type, ...change.details } });
    const turned = wasOn === isOn ? null : isOn ? 'on' : 'off';
    if (turned) await recordAudit(trx, now, { event: turned === 'on' ? 'two_step.enabled' : 'two_step.disabled', accountId, meta, details: { by: change.type } });
    await notify(deps, trx, accountId, now, change.summary, turned);
    return outcome.result;
  });
  deps.outbox.wake();
  return result;
}

async function notify(deps: ChangeDeps, trx: Transaction<DB>, accountId: string, now: Date, summary: string, turned: 'on' | 'off' | null): Promise<void> {
  const account = await findAccountById(trx, accountId);
  if (!account) return;
  const token = await issueToken(trx, { key: deps.secrets.tokenKey, random: deps.random, now, accountId, purpose: 'not_me' });
  await deps.outbox.enqueue(trx, {
    channel: 'email',
    to: account.email,
    template: 'two-step-changed',
    data: {
      username: account.username,
      summary,
      turned,
      when: now.toUTCString(),
      notMeLink: `${deps.publicUrl}/recover/not-me/${encodeURIComponent(token)}`,
      securityLink: `${deps.publicUrl}/account/security`,
    },
  });
}
