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
  let query = db.selectFrom('dev_messages').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
  if (to) query = query.where((eb) => eb(eb.fn('lower', ['recipient']), '=', to.toLowerCase()));
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
