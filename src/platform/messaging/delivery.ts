import { sql, type Kysely } from 'kysely';
import { isUniqueViolation } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { backoffSeconds } from './outbox.js';

/**
 * What a member is told about a message's delivery: the outbox's own state until the
 * provider reports through its status callback, then the provider's latest word.
 */
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

export interface DeliveryReport {
  status: DeliveryStatus;
  updatedAt: Date;
  /** The provider's error code when it reported one (e.g. Twilio 30003 "unreachable"). */
  errorCode: string | null;
}

/** One word from the provider about one outbox message. */
export interface DeliveryUpdate {
  outboxId: string;
  /** The provider's id for the message (Twilio SID); null if it refused the message outright. */
  providerId: string | null;
  status: DeliveryStatus;
  /** The provider's own status word, e.g. Twilio's 'no-answer'. */
  providerStatus: string;
  errorCode: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** queued → sent → a final word. Callbacks can arrive out of order; we never step back. */
function rankOf(column: ReturnType<typeof sql.ref>) {
  return sql<number>`CASE ${column} WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 ELSE 2 END`;
}

/**
 * Records the provider's word on a message in one statement, so two callbacks racing each
 * other cannot interleave. A word that would move the status backwards (a late "sent"
 * after "delivered") is ignored, as is a repeat of the current one. A final word may
 * still be replaced by a different final word: the carrier's later report wins.
 * Returns whether anything changed.
 */
export async function recordDelivery(db: Kysely<DB>, now: Date, update: DeliveryUpdate): Promise<boolean> {
  const current = sql.ref('message_deliveries.status');
  const incoming = sql.ref('excluded.status');
  try {
    const row = await db
      .insertInto('message_deliveries')
      .values({
        outbox_id: update.outboxId,
        provider_id: update.providerId,
        status: update.status,
        provider_status: update.providerStatus.slice(0, 64),
        error_code: update.errorCode?.slice(0, 32) ?? null,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .column('outbox_id')
          .doUpdateSet({
            provider_id: sql`COALESCE(message_deliveries.provider_id, excluded.provider_id)`,
            status: sql`excluded.status`,
            provider_status: sql`excluded.provider_status`,
            error_code: sql`excluded.error_code`,
            updated_at: sql`excluded.updated_at`,
          })
          .where(({ or, and, eb }) =>
            or([
              eb(rankOf(incoming), '>', rankOf(current)),
              and([eb(rankOf(incoming), '=', 2), eb(incoming, '<>', current)]),
            ]),
          ),
      )
      .returning('outbox_id')
      .executeTakeFirst();
    return row !== undefined;
  } catch (error) {
    // Another message already carries this provider id: a confused callback, not ours to fix.
    if (isUniqueViolation(error, 'message_deliveries_provider_id_key')) return false;
    throw error;
  }
}

/**
 * The outbox message a provider id belongs to, among SMS and voice messages: from an
 * earlier callback, or from the id the outbox stored when the provider accepted it.
 */
export async function findMessageByProviderId(db: Kysely<DB>, providerId: string): Promise<string | null> {
  const known = await db.selectFrom('message_deliveries').select('outbox_id').where('provider_id', '=', providerId).executeTakeFirst();
  if (known) return known.outbox_id;
  const sent = await db
    .selectFrom('outbox')
    .select('id')
    .where('provider_id', '=', providerId)
    .where('channel', 'in', ['sms', 'voice'])
    .executeTakeFirst();
  return sent?.id ?? null;
}

/** An SMS or voice message with this id exists (ids from a callback URL are checked here). */
export async function isPhoneMessage(db: Kysely<DB>, outboxId: string): Promise<boolean> {
  if (!UUID.test(outboxId)) return false;
  const row = await db.selectFrom('outbox').select('id').where('id', '=', outboxId).where('channel', 'in', ['sms', 'voice']).executeTakeFirst();
  return row !== undefined;
}

/**
 * The delivery of one outbox message as a member should see it: the provider's latest
 * word if it has spoken, else what the outbox knows (queued or being handed over →
 * queued; handed over → sent; given up → failed). Null if there is no such message.
 */
export async function deliveryReport(db: Kysely<DB>, outboxId: string): Promise<DeliveryReport | null> {
  if (!UUID.test(outboxId)) return null;
  const row = await db
    .selectFrom('outbox')
    .leftJoin('message_deliveries as d', 'd.outbox_id', 'outbox.id')
    .select([
      'outbox.status',
      'outbox.attempts',
      'outbox.created_at',
      'outbox.sent_at',
      'outbox.next_attempt_at',
      'd.status as provider_word',
      'd.error_code',
      'd.updated_at',
    ])
    .where('outbox.id', '=', outboxId)
    .executeTakeFirst();
  if (!row) return null;
  if (row.provider_word && row.updated_at) {
    return { status: row.provider_word, updatedAt: new Date(row.updated_at), errorCode: row.error_code ?? null };
  }
  switch (row.status) {
    case 'sent':
      return { status: 'sent', updatedAt: new Date(row.sent_at ?? row.created_at), errorCode: null };
    case 'abandoned':
      // The outbox keeps no "abandoned at". On a failed attempt it sets next_attempt_at to
      // "failure time + backoff", so that time is recovered (exactly for a refused or
      // failed hand-off; roughly for a claim that expired on its last attempt).
      return {
        status: 'failed',
        updatedAt: new Date(Math.max(new Date(row.created_at).getTime(), new Date(row.next_attempt_at).getTime() - backoffSeconds(row.attempts) * 1000)),
        errorCode: null,
      };
    default:
      return { status: 'queued', updatedAt: new Date(row.created_at), errorCode: null };
  }
}
