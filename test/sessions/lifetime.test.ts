import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, randomIp, signUp, type TestApp } from '../helpers/app.js';

const DAY = 86400;

async function me(t: TestApp, token: string) {
  return (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(token) })).statusCode;
}

async function lastSeen(t: TestApp, accountId: string): Promise<string> {
  const row = await t.db.selectFrom('sessions').select('last_seen_at').where('account_id', '=', accountId).executeTakeFirstOrThrow();
  return row.last_seen_at.toISOString();
}

describe('default lifetimes (30 days absolute, 7 days idle)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('ends a session 30 days after sign-in even when it is used every few days', async () => {
    const member = await signUp(t);
    for (let day = 5; day < 30; day += 5) {
      t.clock.advanceSeconds(5 * DAY);
      expect(await me(t, member.token)).toBe(200);
    }
    t.clock.advanceSeconds(5 * DAY - 2);
    expect(await me(t, member.token)).toBe(200);
    t.clock.advanceSeconds(2);
    expect(await me(t, member.token)).toBe(401);
  });

  it('ends a session left unused for 7 days, but not one used within them', async () => {
    const idle = await signUp(t);
    const used = await signUp(t);
    t.clock.advanceSeconds(6 * DAY);
    expect(await me(t, used.token)).toBe(200);
    t.clock.advanceSeconds(DAY);
    expect(await me(t, idle.token)).toBe(401);
    expect(await me(t, used.token)).toBe(200);
  });

  it('lists only live sessions', async () => {
    const member = await signUp(t);
    t.clock.advanceSeconds(8 * DAY);
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: randomIp() });
    const list = (await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(res.json().session.token) })).json();
    expect(list).toHaveLength(1);
    expect(list[0].current).toBe(true);
  });

  it('writes lastSeenAt at most once a minute per session', async () => {
    const member = await signUp(t);
    const start = t.clock.now().getTime();
    const at = (s: number) => new Date(start + s * 1000).toISOString();
    expect(await lastSeen(t, member.id)).toBe(at(0));

    t.clock.advanceSeconds(61);
    expect(await me(t, member.token)).toBe(200);
    expect(await lastSeen(t, member.id)).toBe(at(61));

    // A second request within the minute does not write.
    t.clock.advanceSeconds(30);
    expect(await me(t, member.token)).toBe(200);
    expect(await lastSeen(t, member.id)).toBe(at(61));

    // Many requests at once: still at most one write.
    t.clock.advanceSeconds(31);
    await Promise.all(Array.from({ length: 5 }, () => me(t, member.token)));
    expect(await lastSeen(t, member.id)).toBe(at(122));
    t.clock.advanceSeconds(59);
    await Promise.all(Array.from({ length: 5 }, () => me(t, member.token)));
    expect(await lastSeen(t, member.id)).toBe(at(122));

    const listed = (await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(member.token) })).json();
    expect(listed[0].lastSeenAt).toBe(at(122));
  });
});

describe('configured lifetimes (SESSION_ABSOLUTE_SECONDS, SESSION_IDLE_SECONDS)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SESSION_ABSOLUTE_SECONDS: '3600', SESSION_IDLE_SECONDS: '600' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('uses the configured absolute lifetime', async () => {
    const member = await signUp(t);
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: randomIp() });
    const { token, expiresAt } = res.json().session;
    expect(expiresAt).toBe(new Date(t.clock.now().getTime() + 3600_000).toISOString());
    for (let i = 0; i < 6; i++) {
      t.clock.advanceSeconds(590);
      expect(await me(t, token)).toBe(200);
    }
    t.clock.advanceSeconds(60);
    expect(await me(t, token)).toBe(401);
  });

  it('uses the configured idle lifetime', async () => {
    const member = await signUp(t);
    t.clock.advanceSeconds(599);
    expect(await me(t, member.token)).toBe(200);
    t.clock.advanceSeconds(599);
    expect(await me(t, member.token)).toBe(200);
    t.clock.advanceSeconds(601);
    expect(await me(t, member.token)).toBe(401);
  });
});
