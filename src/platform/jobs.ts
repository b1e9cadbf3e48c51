import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { addSeconds, type Clock } from './clock.js';
import type { Db } from './db/database.js';
import type { DB } from './db/schema.js';

export interface JobContext {
  id: string;
  kind: string;
  /**
   * Marks the job done inside the handler's own transaction, so the job's writes and its
   * completion commit together: exactly once, across crashes and processes. Throws (and so
   * rolls the handler back) when another process completed it first.
   */
  complete(trx: Kysely<DB>): Promise<void>;
}

/** A handler with nothing to write may simply return; the job is then marked done. */
export type JobHandler = (payload: Record<string, unknown>, job: JobContext) => Promise<void>;

export const jobPolicy = {
  maxAttempts: 10,
  firstRetrySeconds: 5,
  maxRetrySeconds: 3600,
  /** A claimed job whose process died is claimed again after this long. */
  claimSeconds: 60,
} as const;

/**
 * Durable work in the database: run soon after a request (so the request's answer does not
 * depend on it) or at a time (a waiting period). Due jobs are claimed with SKIP LOCKED, so
 * several processes share them and each runs once.
 */
export class Jobs {
  private readonly handlers = new Map<string, JobHandler>();
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private backstop: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  register(kind: string, handler: JobHandler): void {
    if (this.handlers.has(kind)) throw new Error(`job kind ${kind} registered twice`);
    this.handlers.set(kind, handler);
  }

  /** Queues a job in the caller's transaction; call wake() after commit to run it now. */
  async enqueue(trx: Kysely<DB>, kind: string, payload: Record<string, unknown>, runAt?: Date): Promise<string> {
    const now = this.clock.now();
    const row = await trx
      .insertInto('jobs')
      .values({ kind, payload: JSON.stringify(payload), run_at: runAt ?? now, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Runs due jobs in the background; a slow backstop tick finds jobs that came due. */
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
    await this.running;
  }

  wake(): void {
    if (this.stopped) return;
    this.again = true;
    if (this.running) return;
    this.running = (async () => {
      while (this.again && !this.stopped) {
        this.again = false;
        try {
          await this.drain();
        } catch (error) {
          this.log.error({ err: error }, 'job run failed');
        }
      }
    })().finally(() => {
      this.running = null;
    });
  }

  /** Runs every job due now (tests, and the worker). Returns how many ran. */
  async drain(): Promise<number> {
    let ran = 0;
    while (await this.runOne()) ran++;
    return ran;
  }

  /** Claims one due job and runs it; a failure schedules a retry. False when none is due. */
  async runOne(): Promise<boolean> {
    const now = this.clock.now();
    const job = await this.claim(now);
    if (!job) return false;
    let completed = false;
    const context: JobContext = {
      id: job.id,
      kind: job.kind,
      complete: async (trx) => {
        const done = await trx.updateTable('jobs').set({ done_at: this.clock.now(), locked_until: null }).where('id', '=', job.id).where('done_at', 'is', null).executeTakeFirst();
        if (Number(done.numUpdatedRows) !== 1) throw new Error(`job ${job.id} was completed elsewhere`);
        completed = true;
      },
    };
    try {
      const handler = this.handlers.get(job.kind);
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      await handler(job.payload, context);
      if (!completed) await context.complete(this.db);
    } catch (error) {
      await this.recordFailure(job, now, error);
    }
    return true;
  }

  private async claim(now: Date) {
    return this.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('jobs')
        .select(['id'])
        .where('done_at', 'is', null)
        .where('run_at', '<=', now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
        .orderBy('run_at')
        .limit(1)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!due) return undefined;
      return trx
        .updateTable('jobs')
        .set({ locked_until: addSeconds(now, jobPolicy.claimSeconds), attempts: sql`attempts + 1` })
        .where('id', '=', due.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  private async recordFailure(job: { id: string; attempts: number }, now: Date, error: unknown): Promise<void> {
    this.log.error({ err: error, job: job.id }, 'job failed');
    const last = job.attempts >= jobPolicy.maxAttempts;
    const retryIn = Math.min(jobPolicy.maxRetrySeconds, jobPolicy.firstRetrySeconds * 2 ** (job.attempts - 1));
    await this.db
      .updateTable('jobs')
      .set({
        locked_until: null,
        last_error: error instanceof Error ? error.message.slice(0, 500) : 'failed',
        run_at: addSeconds(now, retryIn),
        ...(last ? { done_at: now } : {}),
      })
      .where('id', '=', job.id)
      .where('done_at', 'is', null)
      .execute();
  }

  /** Jobs not yet done (tests, and an operator's look). */
  async pending(kind?: string): Promise<number> {
    let query = this.db.selectFrom('jobs').select(sql<number>`count(*)::int`.as('n')).where('done_at', 'is', null);
    if (kind) query = query.where('kind', '=', kind);
    return (await query.executeTakeFirstOrThrow()).n;
  }
}
