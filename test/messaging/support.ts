import pino from 'pino';
import { ManualClock } from '../../src/platform/clock.js';
import type { Db } from '../../src/platform/db/database.js';
import { createMetrics, type Metrics } from '../../src/platform/metrics.js';
import { Outbox, type NewMessage } from '../../src/platform/messaging/outbox.js';
import { TransportError, type OutgoingMessage, type Transport, type Transports } from '../../src/platform/messaging/transport.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { TEST_SECRET } from '../helpers/app.js';

/** What the scripted transport does on one call. */
export type Step =
  | 'accept'
  /** A temporary failure (retried). */
  | 'fail'
  /** A permanent failure (not retried). */
  | 'reject'
  /** The provider takes the message, then the answer is lost (a dropped connection). */
  | 'accept-then-lose'
  /** Never answers until `release()` (the sending process is stuck or dead). */
  | 'hang';

/**
 * A real Transport for outbox tests: it records every hand-off, follows a script of
 * outcomes (then accepts), and passes accepted messages to `inner` when given one.
 */
export class ScriptedTransport implements Transport {
  readonly name = 'scripted';
  readonly calls: OutgoingMessage[] = [];
  private readonly script: Step[];
  private hung: { resolve: (v: { providerId?: string }) => void; reject: (e: Error) => void } | undefined;
  private startedResolve: (() => void) | undefined;
  /** Resolves when the first call arrives. */
  readonly started = new Promise<void>((resolve) => (this.startedResolve = resolve));

  constructor(
    script: Step[] = [],
    private readonly options: { inner?: Transport; delayMs?: number } = {},
  ) {
    this.script = [...script];
  }

  async send(message: OutgoingMessage): Promise<{ providerId?: string }> {
    this.calls.push(message);
    this.startedResolve?.();
    const step = this.script.shift() ?? 'accept';
    if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
    switch (step) {
      case 'fail':
        throw new TransportError('provider busy');
      case 'reject':
        throw new TransportError('no such mailbox', true);
      case 'hang':
        return new Promise((resolve, reject) => (this.hung = { resolve, reject }));
      case 'accept-then-lose':
        await this.options.inner?.send(message);
        throw new Error('connection reset before the answer');
      case 'accept':
        return (await this.options.inner?.send(message)) ?? { providerId: `p-${message.id}` };
    }
  }

  /** Lets a hung call finish, with an error or an acceptance. */
  release(error?: Error): void {
    if (error) this.hung?.reject(error);
    else this.hung?.resolve({});
  }

  ids(): string[] {
    return this.calls.map((c) => c.id);
  }
}

/** The keys the test apps use (helpers/app.ts), so a test can unseal what an outbox wrote. */
export const TEST_SECRETS = deriveSecrets(TEST_SECRET);

export function allChannels(transport: Transport): Transports {
  return { email: transport, sms: transport, voice: transport };
}

export function makeOutbox(db: Db, clock: ManualClock, transport: Transport, metrics: Metrics = createMetrics()): Outbox {
  return new Outbox(db, clock, allChannels(transport), pino({ level: process.env.TEST_LOG ?? 'silent' }), metrics, TEST_SECRETS.outboxKey);
}

let n = 0;
export function verifyEmail(to?: string): NewMessage {
  n += 1;
  return {
    channel: 'email',
    to: to ?? `person${n}@example.com`,
    template: 'verify-email',
    data: { username: `person${n}`, link: `https://verity.test/verify-email?token=t${n}` },
  };
}

/** Queues messages in one committed transaction and returns their ids. */
export async function queue(db: Db, outbox: Outbox, messages: NewMessage[]): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const ids: string[] = [];
    for (const m of messages) ids.push(await outbox.enqueue(trx, m));
    return ids;
  });
}

export async function outboxRow(db: Db, id: string) {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function clearMessages(db: Db): Promise<void> {
  await db.deleteFrom('outbox').execute();
  await db.deleteFrom('dev_messages').execute();
}

export async function devCopies(db: Db, id: string): Promise<number> {
  const row = await db.selectFrom('dev_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('idempotency_key', '=', id).executeTakeFirstOrThrow();
  return Number(row.n);
}
