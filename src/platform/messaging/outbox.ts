import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { addSeconds, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Channel, DB, OutboxRow } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import { decrypt, encrypt } from '../crypto.js';
import { renderMessage } from './render.js';
import { backoffSeconds, delivery, OUTCOME_UNKNOWN } from './retry-policy.js';
import { TransportError, type Transports } from './transport.js';

export interface NewMessage {
  channel: Channel;
  to: string;
  /** Folder under templates/messages. */
  template: string;
  data: Record<string, unknown>;
  /** Where the recipient's reply goes (a support ticket's own address); e-mail only. */
  replyTo?: string;
}

export { backoffSeconds, delivery, OUTCOME_UNKNOWN } from './retry-policy.js';

/** A claimed row, and whether an earlier attempt may have reached the provider. */
type Claimed = OutboxRow & { mayHaveBeenSent: boolean };

/** What a sealed outbox row holds: everything the rendered message says. */
interface MessageBody {
  subject: string | null;
  text: string;
  html: string | null;
  replyTo?: string;
}

/**
 * Writes a message in the caller's transaction (so it exists only if the change that caused
 * it commits). Call `Outbox.wake()` after the commit to send it at once. The rendered text
 * carries live codes and link tokens, so it is stored sealed with `key`, never in the clear.
 */
export async function enqueueMessage(trx: Kysely<DB>, now: Date, key: Buffer, message: NewMessage): Promise<string> {
  const rendered = renderMessage(message.template, message.channel, message.data);
  const body: MessageBody = { subject: rendered.subject, text: rendered.text, html: rendered.html, ...(message.replyTo ? { replyTo: message.replyTo } : {}) };
  const row = await trx
    .insertInto('outbox')
    .values({
      channel: message.channel,
      recipient: message.to,
      template: message.template,
      subject: null,
      body_text: null,
      body_html: null,
      sealed_body: encrypt(key, JSON.stringify(body)),
      next_attempt_at: now,
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A row's message: unsealed, or as written in the clear before bodies were sealed (0008). */
function openBody(key: Buffer, row: OutboxRow): MessageBody {
  if (row.sealed_body) return JSON.parse(decrypt(key, row.sealed_body)) as MessageBody;
  return { subject: row.subject, text: row.body_text ?? '', html: row.body_html };
}

/** Once a message is handed over or given up its text is of no more use: only metadata stays. */
const ERASED = { subject: null, body_text: null, body_html: null, sealed_body: null } as const;

/** Finished messages (sent or given up) are deleted this long after they were written. */
export const DEFAULT_RETENTION_DAYS = 30;

/**
 * The in-process sender. Woken after each commit that queued messages; a timer wakes it
 * for the next retry, and a slow backstop tick picks up anything another process left.
 */
export class Outbox {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private backstop: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly transports: Transports,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** Seals bodies at rest (Secrets.outboxKey). */
    private readonly key: Buffer,
    /** How long a claim lasts (config.outboxClaimSeconds). */
    private readonly claimSeconds: number = delivery.claimSeconds,
  ) {}

  enqueue(trx: Kysely<DB>, message: NewMessage): Promise<string> {
    return enqueueMessage(trx, this.clock.now(), this.key, message);
  }

  /**
   * Deletes sent and abandoned messages written more than `days` ago (their delivery reports
   * go with them), in batches so one sweep never holds a long transaction. Returns how many.
   */
  async purgeFinished(days: number): Promise<number> {
    const before = addSeconds(this.clock.now(), -days * 86400);
    let total = 0;
    for (;;) {
      const result = await this.db
        .deleteFrom('outbox')
        .where('id', 'in', (eb) =>
          eb.selectFrom('outbox').select('id').where('status', 'in', ['sent', 'abandoned']).where('created_at', '<', before).limit(1000),
        )
        .executeTakeFirst();
      const n = Number(result.numDeletedRows);
      total += n;
      if (n < 1000) return total;
    }
  }

  start(backstopSeconds = 30): void {
    this.stopped = false;
    clearInterval(this.backstop);
    this.backstop = setInterval(() => this.wake(), backstopSeconds * 1000);
    this.backstop.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.backstop);
    clearTimeout(this.timer);
    await this.settled();
  }

  /** Asks the worker to look for due messages now. Cheap; safe to call often. */
  wake(): void {
    if (this.stopped) return;
    // Set before the running check: a wake that arrives while a run is finishing (even
    // during scheduleNext) must cause another run, or a fresh message waits for the backstop.
    this.again = true;
    if (this.running) return;
    this.running = true;
    this.idle = this.loop().finally(() => {
      this.running = false;
      if (this.again) this.wake();
    });
  }

  /** Resolves once the worker has nothing in hand (tests and benchmarks wait on it). */
  async settled(): Promise<void> {
    while (this.running) await this.idle;
  }

  private async loop(): Promise<void> {
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        const handled = await this.runOnce();
        if (handled === delivery.batchSize) this.again = true;
      } catch (error) {
        this.log.error({ err: error }, 'outbox run failed');
      }
    }
    await this.scheduleNext();
  }

  /** Sets a timer for the next retry, or for a claim of a crashed process to expire. */
  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const next = await this.db
      .selectFrom('outbox')
      .select(sql<Date | null>`min(CASE WHEN status = 'queued' THEN next_attempt_at ELSE locked_until END)`.as('at'))
      .where('status', 'in', ['queued', 'processing'])
      .executeTakeFirst()
      .catch(() => undefined);
    clearTimeout(this.timer);
    if (!next?.at || this.stopped) return;
    // A few ms late, so the clock has passed the due time when the timer fires; something
    // already due but not claimable (a failing database) is looked at again in a second.
    const wait = new Date(next.at).getTime() - this.clock.now().getTime();
    const delay = wait > 0 ? wait + 5 : 1000;
    if (delay > 2 ** 31 - 1) return;
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }

  /** Claims due messages and hands each to its transport. Returns how many it handled. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const claimed = await this.claim(now);
    await Promise.all(claimed.map((row) => this.deliver(row)));
    return claimed.length;
  }

  /** Sends everything due now, for tests and shutdown. */
  async drain(): Promise<void> {
    while ((await this.runOnce()) > 0);
  }

  private async claim(now: Date): Promise<Claimed[]> {
    // SKIP LOCKED lets several processes share the outbox without sending a row twice.
    return this.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('outbox')
        .select(['id', 'status', 'attempts'])
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
            eb.and([eb('status', '=', 'processing'), eb('locked_until', '<', now)]),
          ]),
        )
        .orderBy('next_attempt_at')
        .orderBy('seq')
        .limit(delivery.batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      // A claim that expired on its last attempt (the process died while sending, perhaps
      // because of this very message) is given up rather than tried without end.
      const exhausted = due.filter((d) => d.status === 'processing' && d.attempts >= delivery.maxAttempts).map((d) => d.id);
      if (exhausted.length) {
        await trx
          .updateTable('outbox')
          .set({ status: 'abandoned', locked_until: null, last_error: 'claim expired on the last attempt', ...ERASED })
          .where('id', 'in', exhausted)
          .execute();
      }
      const ids = due.filter((d) => !exhausted.includes(d.id)).map((d) => d.id);
      if (ids.length === 0) return [];
      // A claim that expired belonged to a process that died while sending: it may have sent.
      const expired = new Set(due.filter((d) => d.status === 'processing').map((d) => d.id));
      const rows = await trx
        .updateTable('outbox')
        .set({
          status: 'processing',
          attempts: sql`attempts + 1`,
          locked_until: addSeconds(now, this.claimSeconds),
        })
        .where('id', 'in', ids)
        .returningAll()
        .execute();
      return rows.map((row) => ({ ...row, mayHaveBeenSent: expired.has(row.id) || (row.last_error?.startsWith(OUTCOME_UNKNOWN) ?? false) }));
    });
  }

  private async deliver(row: Claimed): Promise<void> {
    const transport = this.transports[row.channel];
    let providerId: string | undefined;
    let body: MessageBody;
    try {
      body = openBody(this.key, row);
    } catch {
      // Sealed under another SECRET_KEY (or damaged): no retry will ever open it.
      await this.failed(row, new TransportError('the message body cannot be unsealed with this SECRET_KEY', true));
      return;
    }
    try {
      // The row id travels as the idempotency key (the dev outbox keeps one copy per id).
      // Providers that ignore such keys (Twilio) are told when an earlier attempt may have
      // reached them, and look for that copy before sending another.
      ({ providerId } = await transport.send({
        id: row.id,
        channel: row.channel,
        to: row.recipient,
        subject: body.subject,
        text: body.text,
        html: body.html,
        ...(body.replyTo ? { replyTo: body.replyTo } : {}),
        queuedAt: row.created_at,
        mayHaveBeenSent: row.mayHaveBeenSent,
      }));
    } catch (error) {
      await this.failed(row, error);
      return;
    }
    const now = this.clock.now();
    // Accepted is accepted, even if our claim expired meanwhile; 'sent' is never undone.
    const result = await this.db
      .updateTable('outbox')
      .set({ status: 'sent', sent_at: now, locked_until: null, last_error: null, provider_id: providerId ?? null, ...ERASED })
      .where('id', '=', row.id)
      .where('status', '!=', 'sent')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return;
    this.metrics.messagesSent.inc({ channel: row.channel, result: 'sent' });
    this.metrics.handoffSeconds.observe({ channel: row.channel }, Math.max(0, (now.getTime() - row.created_at.getTime()) / 1000));
  }

  private async failed(row: OutboxRow, error: unknown): Promise<void> {
    const permanent = error instanceof TransportError && error.permanent;
    const uncertain = !permanent && error instanceof TransportError && error.uncertain;
    const giveUp = permanent || row.attempts >= delivery.maxAttempts;
    const message = (uncertain ? OUTCOME_UNKNOWN : '') + (error instanceof Error ? error.message : String(error));
    const wait = Math.max(backoffSeconds(row.attempts), uncertain ? delivery.uncertainRetrySeconds : 0);
    // Only while the claim is still ours (same attempt number, still processing): a slow
    // failure must not requeue a message another process has since claimed or sent.
    const result = await this.db
      .updateTable('outbox')
      .set({
        status: giveUp ? 'abandoned' : 'queued',
        ...(giveUp ? ERASED : {}),
        locked_until: null,
        last_error: message.slice(0, 500),
        next_attempt_at: addSeconds(this.clock.now(), wait),
      })
      .where('id', '=', row.id)
      .where('status', '=', 'processing')
      .where('attempts', '=', row.attempts)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return;
    this.metrics.messagesSent.inc({ channel: row.channel, result: giveUp ? 'abandoned' : 'retry' });
    this.log.warn({ messageId: row.id, channel: row.channel, attempt: row.attempts, giveUp, uncertain, error: message }, 'message delivery failed');
  }

  async backlog(): Promise<number> {
    const row = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'in', ['queued', 'processing'])
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
