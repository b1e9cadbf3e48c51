import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import type { Clock } from './clock.js';
import { secondsUntil } from './clock.js';
import type { Db } from './db/database.js';
import { AppError } from './errors.js';

/**
 * Every rate limit in Verity, in one table: name → limit per window. Windows are fixed
 * unless `sliding`: then the previous window's count is weighed in by how much of it still
 * lies within the last `windowSeconds`, so a burst across a window boundary is not missed.
 * Keys are chosen by the caller (an IP, an account id, a phone number...).
 */
export const policies = {
  /** Sign-in attempts from one IP, successful or not. */
  signin_ip: { limit: 60, windowSeconds: 15 * 60 },
  /** Failed sign-ins for one account (or one unknown login): the temporary lock, "10 in any 15 minutes". */
  signin_failures: { limit: 10, windowSeconds: 15 * 60, sliding: true },
  /** New accounts from one IP. */
  signup_ip: { limit: 10, windowSeconds: 60 * 60 },
  /** E-mail verification messages an account may ask for. */
  email_verification_send: { limit: 5, windowSeconds: 60 * 60 },
  /** Admin setup token guesses from one IP. */
  admin_setup_ip: { limit: 10, windowSeconds: 15 * 60 },
  /** "Was this article helpful?" votes from one IP, cookie or not: bounds ballot stuffing. */
  help_vote: { limit: 30, windowSeconds: 15 * 60 },
  /** Asking the provider for one message's status when its callback is late: once per 30 s. */
  delivery_recheck: { limit: 1, windowSeconds: 30 },
  /** Twilio status callbacks from one IP (Twilio spreads its callbacks over many addresses). */
  twilio_webhook_ip: { limit: 600, windowSeconds: 60 },
  /** Phone verifications started per account / IP (numbers that passed screening): bounds carrier lookups and probing for numbers in use. */
  phone_start_account: { limit: 20, windowSeconds: 60 * 60 },
  phone_start_ip: { limit: 60, windowSeconds: 60 * 60 },
  /** Verification codes (SMS or call) sent, against SMS pumping: per number, account and IP, per hour and per day. */
  phone_send_number_hour: { limit: 8, windowSeconds: 60 * 60 },
  phone_send_number_day: { limit: 20, windowSeconds: 24 * 60 * 60 },
  phone_send_account_hour: { limit: 8, windowSeconds: 60 * 60 },
  phone_send_account_day: { limit: 20, windowSeconds: 24 * 60 * 60 },
  phone_send_ip_hour: { limit: 20, windowSeconds: 60 * 60 },
  phone_send_ip_day: { limit: 100, windowSeconds: 24 * 60 * 60 },
  /** Codes sent per destination country per day; the limit per country is config.phoneCountryDailyCaps (this is only the fallback). */
  phone_send_country_day: { limit: 2000, windowSeconds: 24 * 60 * 60 },
} satisfies Record<string, Policy>;

export interface Policy {
  limit: number;
  windowSeconds: number;
  sliding?: boolean;
}

export type PolicyName = keyof typeof policies;

export interface LimitState {
  /** Hits in the window; for a sliding policy, weighted (so not always a whole number). */
  count: number;
  limit: number;
  /**
   * When the count is back under the limit: the window's end for a fixed policy; for a
   * sliding one, once enough earlier hits have aged out (the window's end when not over).
   */
  resetAt: Date;
  exceeded: boolean;
}

/** Where counters live: the database by default, Redis when several processes share limits. */
export interface CounterStore {
  /** Adds one to the counter, to be kept until `expiresAt` (`keepSeconds` from now), and returns the new count. */
  increment(key: string, expiresAt: Date, keepSeconds: number): Promise<number>;
  get(key: string): Promise<number>;
  delete(key: string): Promise<void>;
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

  async get(key: string): Promise<number> {
    const row = await this.db.selectFrom('rate_limit_counters').select('count').where('key', '=', key).executeTakeFirst();
    return row?.count ?? 0;
  }

  async delete(key: string): Promise<void> {
    await this.db.deleteFrom('rate_limit_counters').where('key', '=', key).execute();
  }

  async sweep(now: Date): Promise<void> {
    // expires_at is the end of the time the counter is needed (its window's end, or the next
    // window's for a sliding policy), which no longer belongs to it.
    await this.db.deleteFrom('rate_limit_counters').where('expires_at', '<=', now).execute();
  }
}

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

  async get(key: string): Promise<number> {
    return Number((await this.redis.get(this.prefix + key)) ?? 0);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async sweep(): Promise<void> {
    // Redis expires keys itself.
  }
}

export class RateLimiter {
  constructor(
    private readonly store: CounterStore,
    private readonly clock: Clock,
    private readonly enabled = true,
  ) {}

  private window(name: PolicyName, key: string) {
    const policy: Policy = policies[name];
    const windowMs = policy.windowSeconds * 1000;
    const now = this.clock.now().getTime();
    const start = Math.floor(now / windowMs) * windowMs;
    // A sliding policy's counter is kept through the next window, where it is the previous one.
    const keptWindows = policy.sliding ? 2 : 1;
    return {
      policy,
      windowMs,
      now,
      start,
      storeKey: `${name}:${key}:${start}`,
      previousKey: `${name}:${key}:${start - windowMs}`,
      keepUntil: new Date(start + keptWindows * windowMs),
      keepSeconds: keptWindows * policy.windowSeconds,
    };
  }

  /** The state for `current` hits in this window: `exceeded` once the count reaches the limit. */
  private async state(w: ReturnType<RateLimiter['window']>, current: number): Promise<LimitState> {
    const { policy, windowMs, now, start } = w;
    const windowEnd = new Date(start + windowMs);
    if (!policy.sliding) return { count: current, limit: policy.limit, resetAt: windowEnd, exceeded: current >= policy.limit };
    const previous = await this.store.get(w.previousKey);
    const count = previous * (1 - (now - start) / windowMs) + current;
    if (count < policy.limit) return { count, limit: policy.limit, resetAt: windowEnd, exceeded: false };
    // When the weighted count falls under the limit with no more hits: within this window as
    // the previous one's hits age out, else in the next one as this one's do.
    const under =
      current < policy.limit
        ? start + windowMs * (1 - (policy.limit - current) / previous)
        : start + windowMs * (2 - policy.limit / current);
    return { count, limit: policy.limit, resetAt: new Date(Math.floor(under) + 1), exceeded: true };
  }

  private idle(name: PolicyName): LimitState {
    const { policy, start, windowMs } = this.window(name, '');
    return { count: 0, limit: policy.limit, resetAt: new Date(start + windowMs), exceeded: false };
  }

  /** Counts one hit and reports the state after it; `exceeded` means this hit passed the limit. */
  async hit(name: PolicyName, key: string): Promise<LimitState> {
    if (!this.enabled) return this.idle(name);
    const w = this.window(name, key);
    const current = await this.store.increment(w.storeKey, w.keepUntil, w.keepSeconds);
    const state = await this.state(w, current);
    return { ...state, exceeded: state.count > w.policy.limit };
  }

  /** The state without counting a hit; `exceeded` means the limit is already used up. */
  async peek(name: PolicyName, key: string): Promise<LimitState> {
    if (!this.enabled) return this.idle(name);
    const w = this.window(name, key);
    return this.state(w, await this.store.get(w.storeKey));
  }

  /** Counts one hit, refusing with 429 rate_limited when the limit is passed. */
  async consume(name: PolicyName, key: string): Promise<LimitState> {
    const state = await this.hit(name, key);
    if (state.exceeded) throw this.refusal(state);
    return state;
  }

  async reset(name: PolicyName, key: string): Promise<void> {
    if (!this.enabled) return;
    const w = this.window(name, key);
    await this.store.delete(w.storeKey);
    if (w.policy.sliding) await this.store.delete(w.previousKey);
  }

  sweep(): Promise<void> {
    return this.store.sweep(this.clock.now());
  }

  refusal(state: LimitState): AppError {
    const retryAfter = Math.max(1, secondsUntil(this.clock.now(), state.resetAt));
    return new AppError('rate_limited', { retryAfter });
  }
}
