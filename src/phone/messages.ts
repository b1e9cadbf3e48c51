import type { Transaction } from 'kysely';
import { findAccountById } from '../accounts/queries.js';
import type { DB } from '../platform/db/schema.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import * as codes from './codes.js';
import type { PhoneChannel } from './view.js';

type Deps = { outbox: Outbox; publicUrl: string };

/** Queues a code by text or call (templates/messages/phone-code); returns the outbox id. */
export function sendCode(deps: Deps, trx: Transaction<DB>, e164: string, channel: PhoneChannel, code: string): Promise<string> {
  return deps.outbox.enqueue(trx, {
    channel,
    to: e164,
    template: 'phone-code',
    data: { code, spoken: codes.spokenCode(code), minutes: codes.CODE_TTL_SECONDS / 60, host: new URL(deps.publicUrl).host },
  });
}

/** E-mails the member about a number added, changed or removed (templates/messages/phone-changed). */
export async function notifyPhoneChange(
  deps: Deps,
  trx: Transaction<DB>,
  accountId: string,
  now: Date,
  change: { change: string; number: string; previous: string | null },
): Promise<void> {
  const account = await findAccountById(trx, accountId);
  if (!account) return;
  await deps.outbox.enqueue(trx, {
    channel: 'email',
    to: account.email,
    template: 'phone-changed',
    data: { ...change, username: account.username, when: now.toUTCString(), supportLink: `${deps.publicUrl}/support/contact` },
  });
}
