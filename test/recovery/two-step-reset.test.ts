import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';
import { addAuthenticator, appCode } from '../twostep/helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const NEW_PASSWORD = 'harbour lights over a sleeping town';

async function resetLink(login: string, email: string): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login }, remoteAddress: randomIp() });
  expect(res.statusCode).toBe(202);
  return linkToken((await lastMessage(t, email))!.body, '/recover/password');
}

describe('a reset with two-step verification on', () => {
  it('API: 403 two_step_required until a recovery challenge for this link passes, then honoured', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    t.clock.advanceSeconds(30);
    const token = await resetLink(member.username, member.email);
    const refused = await t.app.inject({ method: 'POST', url: `/v1/recovery/password/${token}`, payload: { newPassword: NEW_PASSWORD } });
    expect(refused.statusCode).toBe(403);
    expect(problem(refused).code).toBe('two_step_required');

    const look = await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${token}` });
    const { twoStepRequired, challenge } = look.json() as { twoStepRequired: boolean; challenge: { id: string; purpose: string; methods: Array<{ type: string }> } };
    expect(twoStepRequired).toBe(true);
    expect(challenge.purpose).toBe('recovery');
    expect(challenge.methods.map((m) => m.type)).toContain('totp');
    expect(challenge.methods.map((m) => m.type)).not.toContain('password');
    const passed = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, payload: { method: 'totp', code: appCode(t, secret) } });
    expect(passed.statusCode).toBe(200);
    expect(passed.json()).toEqual({ status: 'verified' });

    const reset = await t.app.inject({ method: 'POST', url: `/v1/recovery/password/${token}`, payload: { newPassword: NEW_PASSWORD } });
    expect(reset.statusCode).toBe(200);

    // A challenge passed for one link opens no other link.
    const other = await resetLink(member.email, member.email);
    const again = await t.app.inject({ method: 'POST', url: `/v1/recovery/password/${other}`, payload: { newPassword: 'a different long passphrase here' } });
    expect(again.statusCode).toBe(403);
    expect(problem(again).code).toBe('two_step_required');
  });

  it('pages: the link leads to the two-step check, then to the new password, then to sign-in', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    t.clock.advanceSeconds(30);
    const token = await resetLink(member.username, member.email);
    const visitor = new Visitor(t);
    const opened = await visitor.get(`/recover/password/${token}`);
    expect(opened.statusCode).toBe(303);
    expect(opened.headers.location).toBe(`/recover/password/${token}/check`);
    const check = await visitor.get(`/recover/password/${token}/check`);
    expect(check.statusCode).toBe(200);
    expect(check.body).toContain('name="code"');
    expect(check.body).toContain('href="/support/contact"');

    const wrong = await visitor.post(`/recover/password/${token}/check`, { method: 'totp', code: '000000' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body).toContain('id="f-code-error"');
    const ok = await visitor.post(`/recover/password/${token}/check`, { method: 'totp', code: appCode(t, secret) });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe(`/recover/password/${token}`);
    const form = await visitor.get(`/recover/password/${token}`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="newPassword"');
    const done = await visitor.post(`/recover/password/${token}`, { newPassword: NEW_PASSWORD });
    expect(done.headers.location).toBe('/recover/password/done');
    const signIn = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: NEW_PASSWORD }, remoteAddress: randomIp() });
    expect(signIn.json().status).toBe('two_step_required');
  });
  it('a locked account (this wasn\'t me) passes its recovery challenge, so the reset that ends the lock stays possible', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    // Older than a day, so the lock does not suspend it.
    t.clock.advanceSeconds(25 * 3600);
    const locked = await t.app.inject({ method: 'POST', url: '/v1/me/compromised', headers: auth(member.token), payload: {} });
    expect(locked.statusCode).toBe(202);
    const token = await resetLink(member.username, member.email);
    const look = await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${token}` });
    const { challenge } = look.json() as { challenge: { id: string } };
    const passed = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, payload: { method: 'totp', code: appCode(t, secret) } });
    expect(passed.statusCode).toBe(200);
    const reset = await t.app.inject({ method: 'POST', url: `/v1/recovery/password/${token}`, payload: { newPassword: NEW_PASSWORD } });
    expect(reset.statusCode).toBe(200);
    t.clock.advanceSeconds(30);
    const signIn = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: NEW_PASSWORD }, remoteAddress: randomIp() });
    expect(signIn.statusCode).toBe(200);
    expect(signIn.json().status).toBe('two_step_required');
  });
});
