import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import type { Database } from '../../src/platform/db/database.js';
import { AppError } from '../../src/platform/errors.js';
import { DbCounterStore, policies, RateLimiter, RedisCounterStore, type CounterStore } from '../../src/platform/ratelimit.js';
import { openTestDatabase } from '../helpers/database.js';
import { connectRedis, dropRedis, redisUrl, storeCases, uniquePrefix } from './stores.js';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

// The manual clock starts on the hour, so a 15-minute or an hour's window starts exactly there.
const start = '2026-11-23T12:00:00Z';
/** A fixed-window policy (sliding ones are below). */
const policy = 'signup_ip' as const;
const { limit, windowSeconds } = policies[policy];
const freshKey = () => `k-${randomBytes(6).toString('hex')}`;

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe.each(storeCases)('rate limits over the $name store', (storeCase) => {
  let store: CounterStore;
  let close: () => Promise<void>;
  let clock: ManualClock;
  let limiter: RateLimiter;
  beforeAll(() => {
    ({ store, close } = storeCase.make(database.db));
  });
  afterAll(async () => {
    await close();
  });
  beforeEach(() => {
    clock = new ManualClock(start);
    limiter = new RateLimiter(store, clock);
  });

  it('refuses past the limit with rate_limited and Retry-After = seconds to the window end', async () => {
    const key = freshKey();
    clock.advanceSeconds(100);
    for (let i = 1; i <= limit; i++) expect((await limiter.consume(policy, key)).count).toBe(i);
    const error = await refusal(limiter.consume(policy, key));
    expect(error.code).toBe('rate_limited');
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(windowSeconds - 100);
    // Refused hits still count (a client hammering a closed door stays refused).
    expect((await limiter.peek(policy, key)).count).toBe(limit + 1);
  });

  it('starts a fresh count when the window rolls over', async () => {
    const key = freshKey();
    for (let i = 0; i < limit; i++) await limiter.consume(policy, key);
    clock.advanceSeconds(windowSeconds - 1);
    expect((await refusal(limiter.consume(policy, key))).retryAfter).toBe(1);
    clock.advanceSeconds(1);
    const state = await limiter.consume(policy, key);
    expect(state.count).toBe(1);
    expect(state.resetAt.toISOString()).toBe(new Date(Date.parse(start) + 2 * windowSeconds * 1000).toISOString());
  });

  it('counts 50 concurrent hits exactly', async () => {
    const key = freshKey();
    const states = await Promise.all(Array.from({ length: 50 }, () => limiter.hit(policy, key)));
    expect(states.map((s) => s.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await limiter.peek(policy, key)).count).toBe(50);
  });

  it('peeks without counting', async () => {
    const key = freshKey();
    for (let i = 0; i < 5; i++) expect((await limiter.peek(policy, key)).count).toBe(0);
    await limiter.hit(policy, key);
    expect(await limiter.peek(policy, key)).toMatchObject({ count: 1, limit, exceeded: false });
    for (let i = 1; i < limit; i++) await limiter.hit(policy, key);
    // peek reports "used up" once the limit is reached: the next hit would be refused.
    expect(await limiter.peek(policy, key)).toMatchObject({ count: limit, exceeded: true });
  });

  it('resets one counter and leaves the others', async () => {
    const key = freshKey();
    const other = freshKey();
    for (let i = 0; i < 3; i++) {
      await limiter.hit(policy, key);
      await limiter.hit(policy, other);
      await limiter.hit('signin_ip', key);
    }
    await limiter.reset(policy, key);
    expect((await limiter.peek(policy, key)).count).toBe(0);
    expect((await limiter.peek(policy, other)).count).toBe(3);
    expect((await limiter.peek('signin_ip', key)).count).toBe(3);
  });

  it('never refuses and never counts when disabled (RATE_LIMIT=off)', async () => {
    const key = freshKey();
    const off = new RateLimiter(store, clock, false);
    for (let i = 0; i < limit * 3; i++) await off.consume(policy, key);
    expect((await off.peek(policy, key)).exceeded).toBe(false);
    expect((await limiter.peek(policy, key)).count).toBe(0);
  });
});

describe.each(storeCases)('a sliding policy (the sign-in lock) over the $name store', (storeCase) => {
  const sliding = 'signin_failures' as const;
  const { limit: max, windowSeconds: window } = policies[sliding];
  let store: CounterStore;
  let close: () => Promise<void>;
  let clock: ManualClock;
  let limiter: RateLimiter;
  beforeAll(() => {
    ({ store, close } = storeCase.make(database.db));
  });
  afterAll(async () => {
    await close();
  });
  beforeEach(() => {
    clock = new ManualClock(start);
    limiter = new RateLimiter(store, clock);
  });

  it('is used up by hits that straddle a window boundary, which a fixed window would miss', async () => {
    const key = freshKey();
    clock.advanceSeconds(window - 10);
    for (let i = 0; i < max - 1; i++) await limiter.hit(sliding, key);
    clock.advanceSeconds(20); // 10 s into the next window
    expect((await limiter.peek(sliding, key)).count).toBe(max - 1);
    await limiter.hit(sliding, key);
    const state = await limiter.peek(sliding, key);
    expect(state).toMatchObject({ count: max, exceeded: true });
    // Under the limit again when the 9 early hits age out: one window after the end of
    // their slice (the last minute of the first window).
    expect(state.resetAt.toISOString()).toBe(new Date(Date.parse(start) + 2 * window * 1000).toISOString());
    clock.set(new Date(state.resetAt.getTime() - 1));
    expect((await limiter.peek(sliding, key)).exceeded).toBe(true);
    clock.set(state.resetAt);
    expect((await limiter.peek(sliding, key)).count).toBe(1);
  });

  it('a limit reached near a window\'s end lasts until those hits are a window old, not to the boundary', async () => {
    const key = freshKey();
    clock.advanceSeconds(window - 30);
    for (let i = 0; i < max; i++) await limiter.hit(sliding, key);
    const state = await limiter.peek(sliding, key);
    expect(state).toMatchObject({ count: max, exceeded: true });
    // Not 30 s: at least the whole window from the last hit.
    expect(state.resetAt.getTime() - clock.now().getTime()).toBeGreaterThanOrEqual(window * 1000);
    clock.advanceSeconds(31);
    expect((await limiter.peek(sliding, key)).exceeded).toBe(true);
    clock.set(state.resetAt);
    expect((await limiter.peek(sliding, key)).exceeded).toBe(false);
  });

  it('never lets more than the limit into any 15 minutes, wherever the attempts start', async () => {
    const key = freshKey();
    const admitted: number[] = [];
    // An attacker who tries every 11 seconds for 45 minutes, starting late in a window.
    clock.advanceSeconds(window - 37);
    for (let i = 0; i < 2700 / 11; i++) {
      const hit = await limiter.hit(sliding, key);
      if (!hit.exceeded) admitted.push(clock.now().getTime());
      else await limiter.refund(hit); // refused hits kept or not, the bound must hold
      clock.advanceSeconds(11);
    }
    for (const at of admitted) {
      const inWindow = admitted.filter((other) => other >= at && other < at + window * 1000);
      expect(inWindow.length).toBeLessThanOrEqual(max);
    }
    expect(admitted.length).toBeGreaterThanOrEqual(3 * max);
  });

  it('refused hits keep the lock going while they continue', async () => {
    const key = freshKey();
    for (let i = 0; i < max; i++) await limiter.hit(sliding, key);
    const first = await limiter.hit(sliding, key);
    expect(first.exceeded).toBe(true);
    clock.advanceSeconds(window - 60);
    let later = first;
    for (let i = 0; i < max; i++) later = await limiter.hit(sliding, key);
    expect(later.exceeded).toBe(true);
    expect(later.resetAt.getTime() - clock.now().getTime()).toBeGreaterThanOrEqual(window * 1000);
  });

  it('60 concurrent hits: exactly the limit are admitted, and a refund frees one place', async () => {
    const key = freshKey();
    const hits = await Promise.all(Array.from({ length: 60 }, () => limiter.hit(sliding, key)));
    expect(hits.filter((h) => !h.exceeded)).toHaveLength(max);
    await limiter.reset(sliding, key);
    const held = await Promise.all(Array.from({ length: max }, () => limiter.hit(sliding, key)));
    expect((await limiter.hit(sliding, key)).exceeded).toBe(true);
    await limiter.refund(held[0]!);
    await limiter.refund(held[1]!);
    expect((await limiter.hit(sliding, key)).exceeded).toBe(false);
  });

  it('reset clears every slice of the window', async () => {
    const key = freshKey();
    for (let i = 0; i < max - 1; i++) await limiter.hit(sliding, key);
    clock.advanceSeconds(window / 2);
    await limiter.hit(sliding, key);
    await limiter.reset(sliding, key);
    expect((await limiter.peek(sliding, key)).count).toBe(0);
  });
});

describe.each(storeCases)('the $name store', (storeCase) => {
  let store: CounterStore;
  let close: () => Promise<void>;
  beforeAll(() => {
    ({ store, close } = storeCase.make(database.db));
  });
  afterAll(async () => {
    await close();
  });
  const later = () => new Date(Date.now() + 3_600_000);

  it('decrements a counter, never below zero and never creating one', async () => {
    const key = freshKey();
    await store.increment(key, later(), 3600);
    await store.increment(key, later(), 3600);
    await store.decrement(key);
    expect(await store.get(key)).toBe(1);
    await store.decrement(key);
    await store.decrement(key);
    expect(await store.get(key)).toBe(0);
    const none = freshKey();
    await store.decrement(none);
    expect(await store.get(none)).toBe(0);
    expect(await store.increment(none, later(), 3600)).toBe(1);
  });

  it('concurrent increments and decrements lose nothing', async () => {
    const key = freshKey();
    await Promise.all(Array.from({ length: 30 }, () => store.increment(key, later(), 3600)));
    await Promise.all(Array.from({ length: 20 }, () => store.decrement(key)));
    expect(await store.get(key)).toBe(10);
  });

  it('reads many counters in the order asked, 0 for missing ones', async () => {
    const [a, b, c] = [freshKey(), freshKey(), freshKey()];
    await store.increment(a, later(), 3600);
    await store.increment(c, later(), 3600);
    await store.increment(c, later(), 3600);
    expect(await store.getMany([c, b, a])).toEqual([2, 0, 1]);
    expect(await store.getMany([])).toEqual([]);
  });
});

describe('expiry of old windows', () => {
  it('sweep removes database counters whose window has ended, and only those', async () => {
    const clock = new ManualClock(start);
    const limiter = new RateLimiter(new DbCounterStore(database.db), clock);
    const [old1, old2, current] = [freshKey(), freshKey(), freshKey()];
    await limiter.hit(policy, old1);
    await limiter.hit(policy, old2);
    clock.advanceSeconds(windowSeconds);
    await limiter.hit(policy, current);
    await limiter.hit(policy, old1);

    await limiter.sweep();
    const keys = (await database.db.selectFrom('rate_limit_counters').select('key').execute()).map((r) => r.key);
    expect(keys.filter((k) => k.includes(old2))).toEqual([]);
    expect(keys.filter((k) => k.includes(old1))).toHaveLength(1);
    expect(keys.filter((k) => k.includes(current))).toHaveLength(1);
    expect((await limiter.peek(policy, old1)).count).toBe(1);
  });

  it.skipIf(!redisUrl)('Redis counters carry an expiry, so Redis drops them itself', async () => {
    const redis = connectRedis();
    const prefix = uniquePrefix();
    try {
      const limiter = new RateLimiter(new RedisCounterStore(redis, prefix), new ManualClock(start));
      await limiter.hit(policy, 'ttl');
      const [key] = await redis.keys(`${prefix}*`);
      const ttl = await redis.ttl(key!);
      expect(ttl).toBeGreaterThan(windowSeconds - 5);
      expect(ttl).toBeLessThanOrEqual(windowSeconds + 60);
    } finally {
      await dropRedis(redis, prefix);
    }
  });
});
