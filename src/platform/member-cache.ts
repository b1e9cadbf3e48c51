import type { ChangeFeed } from './db/change-feed.js';

/**
 * What this process remembers about signed-in members, so a signed-in read or a gate check
 * needs no query: the session with its account, the account's parts of GET /v1/me, staff
 * roles, 2SV and phone facts, step-up times, service keys. Each value lives in its
 * account's bucket; any committed change to the account's rows (announced by the database's
 * triggers, migrations/0020) drops the whole bucket on every process.
 *
 * Rules that keep it correct:
 * - Nothing is served from memory unless the change feed is up. While it is down (lost
 *   connection), the cache is empty and every read goes to the database.
 * - A read that follows a watched write of this process first waits for the feed to catch up
 *   (`fresh`), so a member's own change is seen at once.
 * - A value loaded before a change to its account was announced is not stored: the load may
 *   have read the old row (`epoch`, `changedAt`).
 * - Bounded: at most `maxEntries` values, and none older than `maxAgeMs`.
 */
export interface MemberCacheOptions {
  maxEntries?: number;
  maxAgeMs?: number;
  /** Counts hits and misses (metrics.ts). */
  onLookup?: (result: 'hit' | 'miss' | 'bypass') => void;
  onState?: (up: boolean) => void;
  now?: () => number;
}

interface Stored {
  value: unknown;
  at: number;
}

export const SERVICE_KEYS_BUCKET = 'service_keys';

export class MemberCache {
  private readonly buckets = new Map<string, Map<string, Stored>>();
  /** A key that names no account (a session token's hash) → the account whose bucket holds it. */
  private readonly keys = new Map<string, string>();
  private size = 0;
  private up = false;
  private epoch = 0;
  /** Loads that started before this epoch are not stored (the cache was emptied since). */
  private floor = 0;
  private readonly changedAt = new Map<string, number>();
  private syncedWrites = 0;
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly feed: ChangeFeed | undefined,
    private readonly options: MemberCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Subscribes to the change feed; until it is up, nothing is served from memory. */
  private unsubscribe: (() => void) | undefined;

  async start(): Promise<void> {
    if (!this.feed) return;
    this.unsubscribe = await this.feed.subscribe({
      change: (payload) => this.changed(payload),
      up: () => {
        this.emptied();
        this.up = true;
        this.options.onState?.(true);
      },
      down: () => {
        this.up = false;
        this.emptied();
        this.options.onState?.(false);
      },
    });
  }

  get serving(): boolean {
    return this.up;
  }

  /** A value of the account's, loaded once and kept until the account changes. */
  async remember<T>(accountId: string, slot: string, load: () => Promise<T>): Promise<T> {
    if (!(await this.fresh())) return load();
    const found = this.held(accountId, slot);
    if (found) return found.value as T;
    const started = this.epoch;
    const value = await load();
    this.store(accountId, slot, value, started);
    return value;
  }

  /**
   * A value found by a key that is not the account id (a session token's hash): `load`
   * says which account it belongs to. A null result is not kept. Keys share one space:
   * callers prefix them with what they name (`session:`, `service_key:`).
   */
  async rememberByKey<T>(key: string, load: () => Promise<{ accountId: string; value: T } | null>): Promise<T | null> {
    if (!(await this.fresh())) return (await load())?.value ?? null;
    const found = this.held(this.keys.get(key), key);
    if (found) return found.value as T;
    const started = this.epoch;
    const loaded = await load();
    if (!loaded) return null;
    if (this.store(loaded.accountId, key, loaded.value, started)) this.keys.set(key, loaded.accountId);
    return loaded.value;
  }

  /** The value kept under `slot` of the account while young enough, counted as a hit or a miss. */
  private held(accountId: string | undefined, slot: string): Stored | undefined {
    const found = accountId === undefined ? undefined : this.buckets.get(accountId)?.get(slot);
    const live = found && this.now() - found.at < this.maxAgeMs ? found : undefined;
    this.options.onLookup?.(live ? 'hit' : 'miss');
    return live;
  }

  /** Replaces a kept value in place (a session's last-seen time after its touch). */
  update<T>(accountId: string, slot: string, value: T): void {
    const found = this.buckets.get(accountId)?.get(slot);
    if (found) found.value = value;
  }

  /** Drops what is kept for an account (its rows changed). */
  forget(accountId: string): void {
    this.epoch++;
    this.changedAt.set(accountId, this.epoch);
    this.drop(accountId);
    // The change times only matter to loads in flight: rather than let them pile up, refuse
    // every load that started before now.
    if (this.changedAt.size > 10_000) {
      this.floor = this.epoch;
      this.changedAt.clear();
    }
  }

  private changed(payload: string): void {
    if (payload.startsWith('account:')) this.forget(payload.slice('account:'.length));
    else if (payload === SERVICE_KEYS_BUCKET) this.forget(SERVICE_KEYS_BUCKET);
    else this.emptied();
  }

  private emptied(): void {
    this.epoch++;
    this.floor = this.epoch;
    this.changedAt.clear();
    this.buckets.clear();
    this.keys.clear();
    this.size = 0;
  }

  /**
   * Whether memory may answer now. After a watched write of this process, waits until the
   * feed has delivered its announcement; a feed that fails to answer is treated as down.
   */
  private async fresh(): Promise<boolean> {
    if (!this.up || !this.feed) {
      this.options.onLookup?.('bypass');
      return false;
    }
    const writes = this.feed.localWrites;
    if (writes !== this.syncedWrites) {
      try {
        await this.feed.sync();
        this.syncedWrites = Math.max(this.syncedWrites, writes);
      } catch {
        this.options.onLookup?.('bypass');
        return false;
      }
    }
    return this.up;
  }

  private store(accountId: string, slot: string, value: unknown, started: number): boolean {
    if (!this.up || started < this.floor || (this.changedAt.get(accountId) ?? 0) > started) return false;
    let bucket = this.buckets.get(accountId);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(accountId, bucket);
    }
    if (!bucket.has(slot)) this.size++;
    bucket.set(slot, { value, at: this.now() });
    if (this.size > this.maxEntries) this.evictOldest();
    return true;
  }

  /** Drops the oldest tenth of the buckets (Map order is insertion order). */
  private evictOldest(): void {
    const oldest = [...this.buckets.keys()].slice(0, Math.ceil(this.buckets.size / 10));
    for (const accountId of oldest) this.drop(accountId);
  }

  private drop(accountId: string): void {
    const bucket = this.buckets.get(accountId);
    if (!bucket) return;
    this.size -= bucket.size;
    for (const key of bucket.keys()) if (this.keys.get(key) === accountId) this.keys.delete(key);
    this.buckets.delete(accountId);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.up = false;
    this.emptied();
  }
}
