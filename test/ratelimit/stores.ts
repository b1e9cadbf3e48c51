import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Db } from '../../src/platform/db/database.js';
import { DbCounterStore, RedisCounterStore, type CounterStore } from '../../src/platform/ratelimit.js';

/** Redis is used when REDIS_URL is set (CI sets it); otherwise its cases are skipped. */
export const redisUrl = process.env.REDIS_URL;

/** A key prefix of its own per test run, so runs (and parallel files) never collide. */
export function uniquePrefix(): string {
  return `verity:test:${randomBytes(6).toString('hex')}:`;
}

export function connectRedis(): Redis {
  if (!redisUrl) throw new Error('REDIS_URL is not set');
  return new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
}

/** Deletes every key under a prefix, then disconnects. */
export async function dropRedis(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}

export interface StoreCase {
  name: string;
  make(db: Db): { store: CounterStore; close(): Promise<void> };
}

/** The stores one test suite runs over: same limiter, same behaviour expected. */
export const storeCases: StoreCase[] = [
  { name: 'database', make: (db) => ({ store: new DbCounterStore(db), close: async () => undefined }) },
  ...(redisUrl
    ? [
        {
          name: 'redis',
          make: () => {
            const redis = connectRedis();
            const prefix = uniquePrefix();
            return { store: new RedisCounterStore(redis, prefix), close: () => dropRedis(redis, prefix) };
          },
        },
      ]
    : []),
];
