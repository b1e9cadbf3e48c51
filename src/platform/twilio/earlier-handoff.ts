import { createHash } from 'node:crypto';
import type { Db } from '../db/database.js';
import { recordDelivery } from '../messaging/delivery.js';
import type { OutgoingMessage } from '../messaging/transport.js';
import type { TwilioClient } from './client.js';
import { callDeliveryStatus } from './status.js';

/*
 * Twilio's REST API does not dedupe creates, so a hand-off whose outcome is unknown (the
 * answer was lost, or the process died while sending) is looked up before it is sent again.
 *
 * What identifies our copy at Twilio: a Message resource echoes the Body we posted (behind
 * "Sent from your Twilio trial account - " on trial accounts), but not the StatusCallback
 * URL that names the outbox message, nor any other parameter we could set. So each SMS
 * carries a short reference derived from its outbox id, and the lookup matches on it. A Call
 * resource echoes nothing we set (no TwiML, no callback URL): a call is recognised as an
 * outbound call from our number to that number, created since the message was queued and
 * not already another message's. Before either, our own records are asked: any status
 * callback Twilio sent carried the outbox id in its URL, so a recorded SID settles it.
 *
 * Limits: the lists filter by the date a message was sent (DateSent) or a call started
 * (StartTime), which stay empty while Twilio still holds the copy in its queue; the outbox
 * waits before such a lookup (delivery.uncertainRetrySeconds) so that accepted copies have
 * left the queue. An account with message body redaction turned on lists no bodies, and an
 * SMS lost that way would be sent again.
 */

/** Consonants only: a reference never spells a word and is never mistaken for the code. */
const TAG_LETTERS = 'BCDFGHJKLMNPQRSTVWXZ';

/** The reference an SMS carries: 8 letters from a hash of the outbox id (40 bits). */
export function messageTag(outboxId: string): string {
  const digest = createHash('sha256').update(outboxId).digest();
  let tag = '';
  for (let i = 0; i < 8; i++) tag += TAG_LETTERS[digest[i]! % TAG_LETTERS.length];
  return `Ref ${tag}`;
}

/** The text with its reference, on its own line before a closing WebOTP "@host #code" line. */
export function tagBody(text: string, tag: string): string {
  const originBound = /\n\n(@\S+ #\S+)$/.exec(text);
  if (originBound) return `${text.slice(0, originBound.index)}\n${tag}\n\n${originBound[1]}`;
  return `${text}\n${tag}`;
}

/** DateSent>= and StartTime>= take a GMT date; a few minutes back covers clocks that differ. */
function sinceDay(queuedAt: Date): string {
  return new Date(queuedAt.getTime() - 5 * 60_000).toISOString().slice(0, 10);
}

/** Calls created this much before the message was queued are not ours (clocks differ a little). */
const CALL_CLOCK_SLACK_MS = 60_000;

export interface EarlierHandoffDeps {
  client: TwilioClient;
  db: Db;
  from: string;
  now: () => Date;
}

/**
 * The SID of a copy of `message` that Twilio already has, or null if it has none.
 * Throws when Twilio cannot be asked: the caller must then not send blindly.
 */
export async function findEarlierHandoff(deps: EarlierHandoffDeps, message: OutgoingMessage): Promise<string | null> {
  const reported = await deps.db
    .selectFrom('message_deliveries')
    .select('provider_id')
    .where('outbox_id', '=', message.id)
    .where('provider_id', 'is not', null)
    .executeTakeFirst();
  if (reported?.provider_id) return reported.provider_id;
  const queuedAt = message.queuedAt ?? new Date(0);
  if (message.channel === 'sms') {
    const tag = messageTag(message.id);
    const messages = await deps.client.list('Messages', { To: message.to, From: deps.from, 'DateSent>': sinceDay(queuedAt) });
    const ours = messages.find((m) => typeof m.body === 'string' && m.body.includes(tag) && typeof m.sid === 'string');
    return ours ? (ours.sid as string) : null;
  }
  return findEarlierCall(deps, message, queuedAt);
}

async function findEarlierCall(deps: EarlierHandoffDeps, message: OutgoingMessage, queuedAt: Date): Promise<string | null> {
  const calls = await deps.client.list('Calls', { To: message.to, From: deps.from, 'StartTime>': sinceDay(queuedAt) });
  const candidates = calls
    .filter((c) => typeof c.sid === 'string' && c.direction === 'outbound-api')
    .map((c) => ({ sid: c.sid as string, status: typeof c.status === 'string' ? c.status : '', created: Date.parse(String(c.date_created)) }))
    .filter((c) => c.created >= queuedAt.getTime() - CALL_CLOCK_SLACK_MS)
    .sort((a, b) => a.created - b.created);
  if (candidates.length === 0) return null;
  const sids = candidates.map((c) => c.sid);
  const taken = new Set<string>();
  const [inOutbox, inDeliveries] = await Promise.all([
    deps.db.selectFrom('outbox').select('provider_id').where('provider_id', 'in', sids).where('id', '!=', message.id).execute(),
    deps.db.selectFrom('message_deliveries').select('provider_id').where('provider_id', 'in', sids).where('outbox_id', '!=', message.id).execute(),
  ]);
  for (const row of [...inOutbox, ...inDeliveries]) if (row.provider_id) taken.add(row.provider_id);
  for (const call of candidates) {
    if (taken.has(call.sid)) continue;
    // Claimed in the database: message_deliveries.provider_id is unique, so two messages
    // looking at once cannot both take this call.
    const claimed = await recordDelivery(deps.db, deps.now(), {
      outboxId: message.id,
      providerId: call.sid,
      status: callDeliveryStatus(call.status) ?? 'sent',
      providerStatus: call.status,
      errorCode: null,
    });
    if (claimed) return call.sid;
  }
  return null;
}
