import { sql } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import type { OutgoingMessage, Transport } from '../transport.js';

/**
 * Development transport: stores messages for /dev/outbox instead of sending them.
 * The message id is a unique key, so a retried hand-off never stores a message twice.
 */
export class DevOutboxTransport implements Transport {
  readonly name = 'outbox';
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async send(message: OutgoingMessage): Promise<{ providerId?: string }> {
    await this.db
      .insertInto('dev_messages')
      .values({
        idempotency_key: message.id,
        channel: message.channel,
        recipient: message.to,
        subject: message.subject,
        body: message.text,
        html: message.html,
        created_at: this.clock.now(),
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .execute();
    return { providerId: message.id };
  }
}

export interface DevMessage {
  id: string;
  channel: 'sms' | 'voice' | 'email';
  to: string;
  subject: string | null;
  body: string;
  html: string | null;
  createdAt: string;
}

export async function listDevMessages(db: Db, to?: string, limit = 100): Promise<DevMessage[]> {
  // Newest first in the order the messages were written (outbox.seq): deliveries of one
  // batch run concurrently and may arrive here in any order.
  let query = db
    .selectFrom('dev_messages')
    .leftJoin('outbox', (join) => join.on(sql`outbox.id::text`, '=', sql.ref('dev_messages.idempotency_key')))
    .selectAll('dev_messages')
    .orderBy('dev_messages.created_at', 'desc')
    .orderBy('outbox.seq', 'desc')
    .limit(limit);
  if (to) query = query.where((eb) => eb(eb.fn('lower', ['dev_messages.recipient']), '=', to.toLowerCase()));
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    channel: r.channel,
    to: r.recipient,
    subject: r.subject,
    body: r.body,
    html: r.html,
    createdAt: r.created_at.toISOString(),
  }));
}
