import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** The channel the triggers of migrations/0020 announce on. */
export const CHANGES_CHANNEL = 'verity_changes';
const SYNC_PREFIX = 'sync:';
/** The listening connection's name in pg_stat_activity. */
export const CHANGE_FEED_APPLICATION = 'verity-change-feed';
/** A sync whose marker has not come back in this long means the channel is not working. */
const SYNC_TIMEOUT_MS = 2000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

export interface FeedHandlers {
  /** A committed change: `account:<id>` or `service_keys`. */
  change(payload: string): void;
  /** The channel is listening: every change committed from now on will be told. */
  up(): void;
  /** The channel is lost: changes may go untold until `up`. */
  down(error?: unknown): void;
}

/**
 * Committed changes to what a process caches about members, as PostgreSQL's LISTEN/NOTIFY
 * (or PGlite's, in one process) delivers them. `localWrites` counts this process's own
 * watched writes as they commit (db/watch.ts); `sync` is a round trip through the channel,
 * so that what this process just wrote is known before it reads its cache again.
 */
export interface ChangeFeed {
  readonly localWrites: number;
  /** Called by the watching dialect after a watched write commits here. */
  noteLocalWrite(): void;
  /** Adds a listener (several apps may share one database in tests); returns its removal. */
  subscribe(handlers: FeedHandlers): Promise<() => void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

abstract class BaseFeed {
  localWrites = 0;
  protected readonly listeners = new Set<FeedHandlers>();
  protected live = false;
  private opened = false;

  noteLocalWrite(): void {
    this.localWrites++;
  }

  protected async addListener(handlers: FeedHandlers, open: () => Promise<void>): Promise<() => void> {
    this.listeners.add(handlers);
    if (!this.opened) {
      this.opened = true;
      await open();
    } else if (this.live) handlers.up();
    return () => {
      this.listeners.delete(handlers);
    };
  }

  protected changed(payload: string): void {
    for (const l of this.listeners) l.change(payload);
  }

  protected setLive(live: boolean, error?: unknown): void {
    this.live = live;
    for (const l of this.listeners) {
      if (live) l.up();
      else l.down(error);
    }
  }
}

/** PGlite is one connection in this process: NOTIFY reaches the listener as the COMMIT returns. */
export class PgliteChangeFeed extends BaseFeed implements ChangeFeed {
  private unlisten: (() => Promise<void>) | undefined;
  constructor(private readonly pglite: PGlite) {
    super();
  }

  subscribe(handlers: FeedHandlers): Promise<() => void> {
    return this.addListener(handlers, async () => {
      this.unlisten = await this.pglite.listen(CHANGES_CHANNEL, (payload) => this.changed(payload));
      this.setLive(true);
    });
  }

  async sync(): Promise<void> {
    // Delivery is synchronous with the commit: nothing can be in flight.
  }

  async close(): Promise<void> {
    // A closed database answers nothing: nothing may be served as if it still did.
    this.setLive(false);
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    if (unlisten && !this.pglite.closed) await unlisten().catch(() => undefined);
  }
}

/**
 * PostgreSQL: one dedicated connection per process LISTENs (a pooled connection cannot: the
 * pool hands it to other queries). A lost connection is reported down at once and retried
 * with backoff; `up` is said only once LISTEN is in place again.
 */
export class PgChangeFeed extends BaseFeed implements ChangeFeed {
  private client: pg.Client | undefined;
  private closed = false;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private syncSeq = 0;
  private readonly waiting = new Map<string, { resolve(): void; reject(error: Error): void }>();
  private current: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly connectionString: string) {
    super();
  }

  subscribe(handlers: FeedHandlers): Promise<() => void> {
    return this.addListener(handlers, async () => {
      try {
        await this.connect();
      } catch (error) {
        this.lost(undefined, error);
      }
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, application_name: CHANGE_FEED_APPLICATION });
    client.on('notification', (message) => {
      if (message.channel !== CHANGES_CHANNEL) return;
      const payload = message.payload ?? '';
      if (payload.startsWith(SYNC_PREFIX)) {
        const waiter = this.waiting.get(payload);
        this.waiting.delete(payload);
        waiter?.resolve();
        return;
      }
      this.changed(payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RECONNECT_MIN_MS;
    this.setLive(true);
  }

  private lost(client: pg.Client | undefined, error?: unknown): void {
    if (client && this.client !== client) return;
    if (this.client) {
      const old = this.client;
      this.client = undefined;
      old.removeAllListeners('notification');
      void old.end().catch(() => undefined);
    }
    for (const waiter of this.waiting.values()) waiter.reject(new Error('change feed lost'));
    this.waiting.clear();
    this.setLive(false, error);
    if (this.closed || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(RECONNECT_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.connect().catch((e: unknown) => this.lost(undefined, e));
    }, delay);
    this.retryTimer.unref();
  }

  /**
   * A marker NOTIFY sent after the caller's writes committed comes back after their
   * notifications: PostgreSQL delivers notifications in commit order. Calls made while one
   * round trip is out share the next one.
   */
  sync(): Promise<void> {
    if (!this.current) {
      this.current = this.roundTrip().finally(() => {
        this.current = undefined;
      });
      return this.current;
    }
    // One is out, and may have left before the caller's write committed: share the next.
    this.next ??= this.current
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.sync();
      });
    return this.next;
  }

  private async roundTrip(): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('change feed is down');
    const marker = `${SYNC_PREFIX}${process.pid}:${++this.syncSeq}`;
    let timer: NodeJS.Timeout | undefined;
    const back = new Promise<void>((resolve, reject) => {
      this.waiting.set(marker, { resolve, reject });
      timer = setTimeout(() => {
        this.waiting.delete(marker);
        reject(new Error('change feed sync timed out'));
        this.lost(client, new Error('change feed sync timed out'));
      }, SYNC_TIMEOUT_MS);
    });
    try {
      await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, marker]);
      await back;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setLive(false);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    for (const waiter of this.waiting.values()) waiter.reject(new Error('change feed closed'));
    this.waiting.clear();
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
