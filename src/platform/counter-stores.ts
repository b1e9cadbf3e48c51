import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import type { Db } from './db/database.js';

/**
 * The stores a rate limiter counts in (ratelimit.ts holds the policies and the counting):
 * the database by default, Redis when several processes share limits, and Redis with the
 * database as its stand-in while Redis is down.
 */

/** Where counters live: the database by default, Redis when several processes share limits. */
export interface CounterStore {
  /** Adds one to the counter, to be kept until `expiresAt` (`keepSeconds` from now), and returns the new count. */
  increment(key: string, expiresAt: Date, keepSeconds: number): Promise<number>;
  /** Takes one back (never below zero). */
  decrement(key: string): Promise<void>;
  get(key: string): Promise<number>;
  /** Counters in the order of `keys` (0 where none). */
  getMany(keys: readonly string[]): Promise<number[]>;
  delete(key: string): Promise<void>;
  /** Removes several counters in one round trip (a reset clears every slot of a window). */
  deleteMany(keys: readonly string[]): Promise<void>;
  /** Removes counters whose window has ended. */
  sweep(now: Date): Promise<void>;
}

export class DbCounterStore implements CounterStore {
  constructor(private readonly db: Db) {}

  async increment(key: string, expiresAt: Date): Promise<number> {
    // One statement, so concurrent increments never lose a count.
    const row = await this.db
      .insertInto('rate_limit_counters')
      .values({ key, count: 1, expires_at: expiresAt })
      .onConflict((oc) => oc.column('key').doUpdateSet({ count: sql`rate_limit_counters.count + 1` }))
      .returning('count')
      .executeTakeFirstOrThrow();
    return row.count;
  }

  async decrement(key: string): Promise<void> {
    await this.db.updateTable('rate_limit_counters').set({ count: sql`count - 1` }).where('key', '=', key).where('count', '>', 0).execute();
  }

  async get(key: string): Promise<number> {
    const row = await this.db.selectFrom('rate_limit_counters').select('count').where('key', '=', key).executeTakeFirst();
    return row?.count ?? 0;
  }

  async getMany(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.selectFrom('rate_limit_counters').select(['key', 'count']).where('key', 'in', [...keys]).execute();
    const found = new Map(rows.map((r) => [r.key, r.count]));
    return keys.map((k) => found.get(k) ?? 0);
  }

  async delete(key: string): Promise<void> {
    await this.db.deleteFrom('rate_limit_counters').where('key', '=', key).execute();
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    if (keys.length) await this.db.deleteFrom('rate_limit_counters').where('key', 'in', [...keys]).execute();
  }

  async sweep(now: Date): Promise<void> {
    // expires_at is the end of the time the counter is needed (its window's end, or for a
    // sliding policy's slice, one window after the slice), which no longer belongs to it.
    await this.db.deleteFrom('rate_limit_counters').where('expires_at', '<=', now).execute();
  }
}

/** Decrements a key that exists and is above zero, atomically (a refund never creates a key). */
const DECREMENT_SCRIPT = `local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > 0 then return redis.call('DECR', KEYS[1]) end
return 0`;

export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'verity:rl:',
  ) {}

  async increment(key: string, _expiresAt: Date, keepSeconds: number): Promise<number> {
    // Expiry is relative (Redis keeps its own time); the window start is part of the key,
    // so the injected clock alone decides which window a hit belongs to.
    const result = await this.redis.multi().incr(this.prefix + key).expire(this.prefix + key, keepSeconds + 60).exec();
    const [err, count] = result?.[0] ?? [new Error('redis returned no result'), 0];
    if (err) throw err;
    return Number(count);
  }

  async decrement(key: string): Promise<void> {
    await this.redis.eval(DECREMENT_SCRIPT, 1, this.prefix + key);
  }

  async get(key: string): Promise<number> {
    return Number((await this.redis.get(this.prefix + key)) ?? 0);
  }

  async getMany(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys.map((k) => this.prefix + k));
    return values.map((v) => Number(v ?? 0));
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    if (keys.length) await this.redis.del(...keys.map((k) => this.prefix + k));
  }

  async sweep(): Promise<void> {
    // Redis expires keys itself.
  }
}

/** What FallbackCounterStore reports when it changes store (the server logs and counts it). */
export interface FallbackEvents {
  /** Redis became unreachable: counters now go to the database. */
  onFallback(error: unknown): void;
  /** Redis answers again: counters go back to it. */
  onRecover(): void;
}

/**
 * Redis while it answers, the database while it does not: rate limits never stop counting
 * (and never fail requests) because Redis is down. While ioredis is not connected the
 * database takes every call at once, without waiting on Redis's reconnect; a call that
 * fails on Redis is repeated on the database. When Redis is back ('ready') counting returns
 * to it. Hits counted during the outage stay in the database for their window, so a limit
 * may allow up to twice its count across a switch: the price of not refusing everyone.
 */
export class FallbackCounterStore implements CounterStore {
  private onDb = false;

  constructor(
    private readonly redis: Redis,
    private readonly primary: CounterStore,
    private readonly fallback: CounterStore,
    private readonly events: FallbackEvents,
  ) {
    redis.on('ready', () => {
      if (!this.onDb) return;
      this.onDb = false;
      events.onRecover();
    });
    redis.on('error', (error: unknown) => this.fellBack(error));
    redis.on('reconnecting', () => this.fellBack(new Error('redis connection lost')));
  }

  /** Whether counters are going to the database now. */
  get usingFallback(): boolean {
    return this.onDb;
  }

  private fellBack(error: unknown): void {
    if (this.onDb) return;
    this.onDb = true;
    this.events.onFallback(error);
  }

  private async run<T>(call: (store: CounterStore) => Promise<T>): Promise<T> {
    if (!this.onDb && this.redis.status === 'ready') {
      try {
        return await call(this.primary);
      } catch (error) {
        this.fellBack(error);
      }
    } else if (!this.onDb) {
      this.fellBack(new Error(`redis is ${this.redis.status}`));
    }
    return call(this.fallback);
  }

  increment(key: string, expiresAt: Date, keepSeconds: number): Promise<number> {
    return this.run((s) => s.increment(key, expiresAt, keepSeconds));
  }

  decrement(key: string): Promise<void> {
    return this.run((s) => s.decrement(key));
  }

  get(key: string): Promise<number> {
    return this.run((s) => s.get(key));
  }

  getMany(keys: readonly string[]): Promise<number[]> {
    return this.run((s) => s.getMany(keys));
  }

  delete(key: string): Promise<void> {
    return this.run((s) => s.delete(key));
  }

  deleteMany(keys: readonly string[]): Promise<void> {
    return this.run((s) => s.deleteMany(keys));
  }

  async sweep(now: Date): Promise<void> {
    // The database's counters from an outage are swept whichever store is in use.
    await this.fallback.sweep(now);
  }
}
