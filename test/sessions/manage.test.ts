import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function signIn(member: SignedUp, userAgent = 'test-agent'): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, headers: { 'user-agent': userAgent }, remoteAddress: randomIp() });
  expect(res.statusCode).toBe(200);
  return res.json().session.token;
}

async function status(token: string) {
  return (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(token) })).statusCode;
}

async function list(token: string) {
  const res = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(token) });
  expect(res.statusCode).toBe(200);
  return res.json() as Array<{ id: string; createdAt: string; lastSeenAt: string; ip: string | null; userAgent: string | null; current: boolean }>;
}

describe('GET /v1/sessions', () => {
  it('lists the account’s open sessions, marking the current one', async () => {
    const member = await signUp(t);
    const laptop = await signIn(member, 'Laptop');
    const sessions = await list(laptop);
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const current = sessions.find((s) => s.current)!;
    expect(current.userAgent).toBe('Laptop');
    for (const s of sessions) {
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['id', 'createdAt', 'lastSeenAt', 'ip', 'userAgent', 'current']));
      expect(new Date(s.createdAt).toISOString()).toBe(s.createdAt);
      expect(JSON.stringify(s)).not.toContain(member.token);
    }
  });

  it('never shows another account’s sessions', async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    const bIds = (await list(b.token)).map((s) => s.id);
    const aIds = (await list(a.token)).map((s) => s.id);
    expect(aIds.some((id) => bIds.includes(id))).toBe(false);
  });

  it('needs a session', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/sessions' });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('unauthenticated');
  });
});

describe('DELETE /v1/sessions/{id}', () => {
  it('ends one session; the others keep working', async () => {
    const member = await signUp(t);
    const phone = await signIn(member, 'Phone');
    const target = (await list(member.token)).find((s) => s.userAgent === 'Phone')!;
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${target.id}`, headers: auth(member.token) });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await status(phone)).toBe(401);
    expect(await status(member.token)).toBe(200);
    expect((await list(member.token)).map((s) => s.id)).not.toContain(target.id);
    const audit = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'session.revoked').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ sessionId: target.id });
  });

  it('answers 404 for another account’s session and leaves it alone', async () => {
    const owner = await signUp(t);
    const intruder = await signUp(t);
    const ownerSession = (await list(owner.token))[0]!;
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${ownerSession.id}`, headers: auth(intruder.token) });
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
    expect(await status(owner.token)).toBe(200);
  });

  it.each(['not-a-uuid', '00000000-0000-0000-0000-000000000000', "x'%20OR%20'1'='1"])('answers 404 for the id %s', async (id) => {
    const member = await signUp(t);
    const before = await countRows(t.db, 'sessions');
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${id}`, headers: auth(member.token) });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(await countRows(t.db, 'sessions')).toBe(before);
    expect(await status(member.token)).toBe(200);
  });

  it('answers 404 the second time', async () => {
    const member = await signUp(t);
    await signIn(member, 'Tablet');
    const target = (await list(member.token)).find((s) => !s.current)!;
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${target.id}`, headers: auth(member.token) })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${target.id}`, headers: auth(member.token) })).statusCode).toBe(404);
  });
});

describe('DELETE /v1/sessions (all but the current one)', () => {
  it('signs out every other device and keeps this one', async () => {
    const member = await signUp(t);
    const others = [await signIn(member, 'A'), await signIn(member, 'B'), await signIn(member, 'C')];
    const bystander = await signUp(t);
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: auth(member.token) });
    expect(res.statusCode).toBe(204);
    for (const token of others) expect(await status(token)).toBe(401);
    expect(await status(member.token)).toBe(200);
    expect(await status(bystander.token)).toBe(200);
    const remaining = await list(member.token);
    expect(remaining).toHaveLength(1);
    expect(remaining[0]!.current).toBe(true);
    const audit = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'session.revoked_others').execute();
    expect(audit[0]!.details).toMatchObject({ count: 3 });
  });
});

describe('DELETE /v1/sessions/current (sign out)', () => {
  it('ends this session only', async () => {
    const member = await signUp(t);
    const other = await signIn(member);
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth(member.token) });
    expect(res.statusCode).toBe(204);
    expect(await status(member.token)).toBe(401);
    expect(await status(other)).toBe(200);
    const again = await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth(member.token) });
    expect(again.statusCode).toBe(401);
  });

  it('a signed-out token stays dead after the clock moves', async () => {
    const member = await signUp(t);
    await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth(member.token) });
    t.clock.advanceSeconds(120);
    expect(await status(member.token)).toBe(401);
  });
});
