import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies, RedisCounterStore } from '../../src/platform/ratelimit.js';
import { createTestApp, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { connectRedis, dropRedis, redisUrl, uniquePrefix } from './stores.js';

const ipLimit = policies.signin_ip.limit;
const failureLimit = policies.signin_failures.limit;
const sourceLimit = policies.signin_source_failures.limit;
const unknownLogin = () => `nobody-${randomBytes(5).toString('hex')}`;

function signIn(t: TestApp, login: string, password: string, ip: string) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: ip });
}

describe('rate limits over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 rate_limited with Retry-After up to the end of the window', async () => {
    const ip = randomIp();
    const member = await signUp(t);
    t.clock.advanceSeconds(30);
    // Successful sign-ins count toward the per-address limit too (failures have caps of their own).
    for (let i = 0; i < ipLimit; i++) expect((await signIn(t, member.username, member.password, ip)).statusCode).toBe(200);
    const refused = await signIn(t, member.username, member.password, ip);
    expect(refused.statusCode).toBe(429);
    expect(problem(refused)).toMatchObject({ code: 'rate_limited', retryAfter: policies.signin_ip.windowSeconds - 30 });
    expect(refused.headers['retry-after']).toBe(String(policies.signin_ip.windowSeconds - 30));
    // Another address is not affected.
    expect((await signIn(t, unknownLogin(), 'wrong password!', randomIp())).statusCode).toBe(401);
  });
});

describe('with RATE_LIMIT=off', () => {
  it('never refuses', async () => {
    const t = await createTestApp({ env: { RATE_LIMIT: 'off' } });
    try {
      const ip = randomIp();
      const member = await signUp(t);
      const codes = new Set<number>();
      for (let i = 0; i < ipLimit + 5; i++) codes.add((await signIn(t, i % 2 ? member.email : unknownLogin(), 'wrong password!', ip)).statusCode);
      expect([...codes]).toEqual([401]);
      expect((await signIn(t, member.email, member.password, ip)).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe.skipIf(!redisUrl)('two processes sharing one Redis store', () => {
  const redis = redisUrl ? connectRedis() : undefined;
  // One prefix per run; each store gets its own part of it, all dropped at the end.
  const base = uniquePrefix();
  const shared = `${base}shared:`;
  let first: TestApp;
  let second: TestApp;
  const sharedStore = () => new RedisCounterStore(redis!, shared);
  beforeAll(async () => {
    first = await createTestApp({ counterStore: sharedStore });
    second = await createTestApp({ counterStore: sharedStore, database: first.database });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    if (redis) await dropRedis(redis, base);
  });

  it('share the failed sign-in lock of a login from one address', async () => {
    const member = await signUp(first);
    const ip = randomIp();
    for (let i = 0; i < failureLimit; i++) {
      const app = i % 2 ? second : first;
      expect((await signIn(app, member.username, 'wrong password!', ip)).statusCode).toBe(401);
    }
    const locked = await signIn(second, member.username, member.password, ip);
    expect(locked.statusCode).toBe(423);
    expect(problem(locked).code).toBe('account_locked');
  });

  it('share the per-address cap on failed sign-ins', async () => {
    const ip = randomIp();
    for (let i = 0; i < sourceLimit; i++) expect((await signIn(i % 2 ? second : first, unknownLogin(), 'wrong password!', ip)).statusCode).toBe(401);
    const refused = await signIn(first, unknownLogin(), 'wrong password!', ip);
    expect(refused.statusCode).toBe(429);
    expect(problem(refused).code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('(control) do not share a lock when each has its own store', async () => {
    const own = [`${base}one:`, `${base}two:`];
    const one = await createTestApp({ counterStore: () => new RedisCounterStore(redis!, own[0]), database: first.database });
    const two = await createTestApp({ counterStore: () => new RedisCounterStore(redis!, own[1]), database: first.database });
    try {
      const member = await signUp(one);
      const ip = randomIp();
      for (let i = 0; i < failureLimit; i++) {
        expect((await signIn(i % 2 ? two : one, member.username, 'wrong password!', ip)).statusCode).toBe(401);
      }
      expect((await signIn(two, member.username, member.password, ip)).statusCode).toBe(200);
    } finally {
      await two.close();
      await one.close();
    }
  });
});
