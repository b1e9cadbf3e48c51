import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies } from '../../src/platform/ratelimit.js';
import { createTestApp, lastMessage, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { control, textOf, Visitor } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Failed sign-ins from many addresses, enough that the account needs an e-mailed code. */
async function underAttack(member: SignedUp) {
  for (let i = 0; i < policies.signin_account_failures.limit; i++) {
    await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: `guess ${i}` }, remoteAddress: randomIp() });
  }
}

async function codeFor(member: SignedUp): Promise<string> {
  const message = await lastMessage(t, member.email);
  const code = /code is (\d{6})/.exec(message?.body ?? '')?.[1];
  if (!code) throw new Error(`no code in ${message?.body}`);
  return code;
}

describe('the sign-in page with a second step, without JavaScript', () => {
  it('asks for the e-mailed code after the right password, then signs in', async () => {
    const member = await signUp(t);
    await underAttack(member);
    const visitor = new Visitor(t);
    await visitor.get('/login?next=%2Faccount%2Fsecurity');
    const first = await visitor.post('/login', { login: member.username, password: member.password, next: '/account/security' });
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe('/login/verify?next=%2Faccount%2Fsecurity');
    // No session yet, and the challenge id stays in an HttpOnly cookie, never in the URL.
    expect(visitor.cookies.has('verity_session')).toBe(false);
    expect(visitor.lastSetCookies.get('verity_challenge')).toMatch(/HttpOnly; SameSite=Lax/i);

    const page = await visitor.get(first.headers.location as string);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/We sent a code by e-mail to <strong>.•••.@example\.com<\/strong>/);
    expect(control(page.body, 'code')).toMatchObject({ autocomplete: 'one-time-code', inputmode: 'numeric' });
    expect((await visitor.get('/account')).statusCode).not.toBe(200);

    const code = await codeFor(member);
    const wrong = await visitor.post('/login/verify', { method: 'email', code: code === '000000' ? '111111' : '000000', next: '/account/security' });
    expect(wrong.statusCode).toBe(422);
    expect(textOf(wrong.body, 'f-code-error')).toBe('That code is not right. You have 4 tries left.');

    const ok = await visitor.post('/login/verify', { method: 'email', code, next: '/account/security' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/account/security');
    expect(visitor.cookies.has('verity_session')).toBe(true);
    expect(visitor.cookies.has('verity_challenge')).toBe(false);
    expect((await visitor.get('/account/security')).statusCode).toBe(200);
  });

  it('sends a new code on request (after the cooldown), and an expired step sends the member back to sign in', async () => {
    const member = await signUp(t);
    await underAttack(member);
    const visitor = new Visitor(t);
    await visitor.get('/login');
    const first = await visitor.post('/login', { login: member.username, password: member.password });
    await visitor.get(first.headers.location as string);
    const tooSoon = await visitor.post('/login/verify/send', { method: 'email', next: '/account' });
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.body).toContain('Please wait 30 seconds before asking for another code.');
    t.clock.advanceSeconds(30);
    const resent = await visitor.post('/login/verify/send', { method: 'email', next: '/account' });
    expect(resent.statusCode).toBe(303);
    expect((await visitor.get(resent.headers.location as string)).body).toContain('We sent a new code.');

    t.clock.advanceSeconds(10 * 60);
    const late = await visitor.post('/login/verify', { method: 'email', code: await codeFor(member), next: '/account' });
    expect(late.statusCode).toBe(410);
    expect(late.body).toContain('This verification has expired. Start again.');
    expect(control(late.body, 'password')).toBeDefined();
  });
});
