import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/process.js';
import { OwnRedis, logLines, metric, post, waitFor } from './support.js';

/**
 * Redis killed under a real server process that counts its rate limits there: limits keep
 * holding, on the database, with a log line and a metric, and go back to Redis when it
 * returns. The Redis is this file's own (never the machine's shared one). The server runs on
 * its embedded database, whatever the suite runs on: the fallback is the same DbCounterStore.
 */
let redis: OwnRedis;
let server: ServerProcess;
let probe: Redis;

beforeAll(async () => {
  redis = await OwnRedis.create();
  server = await startServer({ DATA_DIR: mkdtempSync(join(tmpdir(), 'verity-redisdown-')), REDIS_URL: redis.url });
  probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
  probe.on('error', () => undefined);
}, 180_000);

afterAll(async () => {
  probe?.disconnect();
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  await redis?.kill();
});

/** Forgot-password for a login: 202 five times an hour per login, then 429 (policy recovery_login). */
async function forgot(login: string): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const res = await post(server.base, '/v1/recovery/password', { login });
  return { status: res.status, ms: Date.now() - started };
}

async function redisKeys(fragment: string): Promise<string[]> {
  if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
  return (await probe.keys('verity:rl:*')).filter((k) => k.includes(fragment));
}

describe('Redis down', () => {
  it('counts on Redis while it is up', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await forgot('redis-up-login')).status);
    expect(answers).toEqual([202, 202, 202]);
    expect(await redisKeys('recovery_login:redis-up-login')).toHaveLength(1);
    expect(await metric(server, 'verity_ratelimit_fallback')).toBe(0);
    expect(await metric(server, 'verity_ratelimit_fallback_total')).toBe(0);
  }, 60_000);

  it('killed: limits still hold, on the database, with a log line and a metric; no request fails', async () => {
    await redis.kill();
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await forgot('redis-down-login'));
    // The limit (5 an hour for one login) holds without Redis: the sixth and seventh are refused.
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 429, 429]);
    // Without waiting on Redis's reconnects.
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2000);
    expect(await metric(server, 'verity_ratelimit_fallback')).toBe(1);
    expect(await metric(server, 'verity_ratelimit_fallback_total')).toBe(1);
    expect(logLines(server).filter((l) => l.msg === 'redis unreachable: rate limits fall back to the database' && l.level === 40)).toHaveLength(1);
    expect(server.stderr()).toBe('');
  }, 60_000);

  it('back: counting returns to Redis by itself, and says so', async () => {
    await redis.start();
    await waitFor('the fallback to end', async () => ((await metric(server, 'verity_ratelimit_fallback')) === 0 ? true : undefined), 20_000, 200);
    expect(logLines(server).some((l) => l.msg === 'redis reachable again: rate limits back on redis')).toBe(true);
    expect((await forgot('redis-back-login')).status).toBe(202);
    expect(await redisKeys('recovery_login:redis-back-login')).toHaveLength(1);
    expect(await metric(server, 'verity_ratelimit_fallback_total')).toBe(1);
  }, 60_000);
});
