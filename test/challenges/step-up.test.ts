import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function changeEmail(token: string) {
  return t.app.inject({ method: 'POST', url: '/v1/me/email', headers: auth(token), payload: { email: `moved-${Math.random().toString(36).slice(2, 8)}@example.net` } });
}
function verify(token: string, challengeId: string, payload: Record<string, unknown>) {
  return t.app.inject({ method: 'POST', url: `/v1/challenges/${challengeId}/verify`, headers: auth(token), payload });
}

describe('step-up for sensitive places', () => {
  it('is required, then honoured for 10 minutes in this session only, then required again', async () => {
    const member = await signUp(t);
    const refused = await changeEmail(member.token);
    expect(refused.statusCode).toBe(403);
    const { challenge } = refused.json() as { challenge: { id: string; purpose: string; methods: Array<{ type: string }> } };
    expect(problem(refused).code).toBe('step_up_required');
    expect(challenge.purpose).toBe('step_up');
    expect(challenge.methods.map((m) => m.type)).toContain('password');

    const wrong = await verify(member.token, challenge.id, { method: 'password', password: 'not the password at all' });
    expect(wrong.statusCode).toBe(422);
    expect(problem(wrong).code).toBe('answer_invalid');
    const passed = await verify(member.token, challenge.id, { method: 'password', password: member.password });
    expect(passed.statusCode).toBe(200);
    expect(passed.json().elevatedUntil).toBe(new Date(t.clock.now().getTime() + 600_000).toISOString());
    // Passed once: the same challenge cannot be passed again.
    expect((await verify(member.token, challenge.id, { method: 'password', password: member.password })).statusCode).toBe(410);

    expect((await changeEmail(member.token)).statusCode).toBe(202);
    // Another session of the same account is not stepped up.
    const other = (await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: randomIp() })).json().session.token as string;
    expect((await changeEmail(other)).statusCode).toBe(403);

    t.clock.advanceSeconds(599);
    expect((await changeEmail(member.token)).statusCode).toBe(202);
    t.clock.advanceSeconds(2);
    expect((await changeEmail(member.token)).statusCode).toBe(403);
  });

  it('a step-up challenge answers only its own session; its id is no bearer token', async () => {
    const member = await signUp(t);
    const other = (await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: randomIp() })).json().session.token as string;
    const res = await t.app.inject({ method: 'POST', url: '/v1/me/step-up', headers: auth(member.token) });
    expect(res.statusCode).toBe(200);
    const id = res.json().challenge.id as string;
    expect((await verify(other, id, { method: 'password', password: member.password })).statusCode).toBe(410);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(id) })).statusCode).toBe(401);
    expect((await verify(member.token, id, { method: 'password', password: member.password })).statusCode).toBe(200);
    expect((await changeEmail(other)).statusCode).toBe(403);
  });

  it('needs a session', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/v1/me/step-up' })).statusCode).toBe(401);
  });
});
