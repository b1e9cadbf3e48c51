import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, lastMessage, linkToken, randomIp, type TestApp } from '../helpers/app.js';
import { signUpByForm, stepUpByForm, Visitor } from '../pages/form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const NEW_PASSWORD = 'pebble garden after summer rain';

describe('recovery pages, without JavaScript', () => {
  it('sign-in → forgot password → e-mail link → new password → sign-in', async () => {
    const { user } = await signUpByForm(t);
    const visitor = new Visitor(t);
    const login = await visitor.get('/login');
    expect(login.body).toContain('href="/recover/password"');
    const form = await visitor.get('/recover/password');
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('href="/recover/no-email"');
    const sent = await visitor.post('/recover/password', { login: user.username });
    expect(sent.statusCode).toBe(303);
    expect(sent.headers.location).toBe('/recover/password/sent');
    const check = await visitor.get('/recover/password/sent');
    expect(check.body).toMatch(/spam/i);

    const token = linkToken((await lastMessage(t, user.email))!.body, '/recover/password');
    const page = await visitor.get(`/recover/password/${token}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="newPassword"');
    const weak = await visitor.post(`/recover/password/${token}`, { newPassword: 'short' });
    expect(weak.statusCode).toBe(422);
    expect(weak.body).toContain('id="f-newPassword-error"');
    const done = await visitor.post(`/recover/password/${token}`, { newPassword: NEW_PASSWORD });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/recover/password/done');
    expect((await visitor.get('/recover/password/done')).body).toContain('href="/login"');

    await visitor.get('/login');
    const signedIn = await visitor.post('/login', { login: user.username, password: NEW_PASSWORD });
    expect(signedIn.statusCode).toBe(303);
    const reused = await visitor.get(`/recover/password/${token}`);
    expect(reused.statusCode).toBe(410);
    expect(reused.body).toContain('href="/recover/password"');
  });

  it('the same page for a known and an unknown login', async () => {
    const { user } = await signUpByForm(t);
    const a = new Visitor(t);
    await a.get('/recover/password');
    const known = await a.post('/recover/password', { login: user.email });
    const b = new Visitor(t);
    await b.get('/recover/password');
    const unknown = await b.post('/recover/password', { login: 'nobody-at-all@example.com' });
    expect([known.statusCode, known.headers.location]).toEqual([unknown.statusCode, unknown.headers.location]);
  });

  it('"this wasn\'t me" asks before it locks; the POST locks and leads to the reset', async () => {
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/account/security');
    const change = await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: { authorization: `Bearer ${(await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: user.username, password: user.password }, remoteAddress: randomIp() })).json().session.token}` },
      payload: { password: user.password, newPassword: NEW_PASSWORD },
    });
    expect(change.statusCode).toBe(200);
    const token = linkToken((await lastMessage(t, user.email))!.body, '/recover/not-me');
    const ask = await visitor.get(`/recover/not-me/${token}`);
    expect(ask.statusCode).toBe(200);
    expect((await t.db.selectFrom('accounts').select('status').where('username', '=', user.username).executeTakeFirstOrThrow()).status).toBe('active');
    const locked = await visitor.post(`/recover/not-me/${token}`, {});
    expect(locked.statusCode).toBe(200);
    expect(locked.body).toContain('href="/recover/password"');
    expect((await t.db.selectFrom('accounts').select('status').where('username', '=', user.username).executeTakeFirstOrThrow()).status).toBe('locked');
    expect((await visitor.get('/account')).statusCode).toBe(303);
  });

  it('/support/compromised: a form for anyone, a lock button for the signed-in member', async () => {
    const anonymous = new Visitor(t);
    const page = await anonymous.get('/support/compromised');
    expect(page.body).toContain('name="contactEmail"');
    const bad = await anonymous.post('/support/compromised', { login: '', contactEmail: 'nope', details: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('id="f-contactEmail-error"');
    const sent = await anonymous.post('/support/compromised', { login: 'someone', contactEmail: 'me@example.org', details: 'They posted jobs I never wrote' });
    expect(sent.statusCode).toBe(303);
    expect((await anonymous.get(sent.headers.location as string)).statusCode).toBe(200);

    const { visitor } = await signUpByForm(t);
    const mine = await visitor.get('/support/compromised');
    expect(mine.body).toContain('action="/support/compromised/lock"');
    const locked = await visitor.post('/support/compromised/lock', { details: '' });
    expect(locked.headers.location).toBe('/support/compromised/locked');
    expect((await visitor.get('/account')).statusCode).toBe(303);
  });

  it('/account/email: asks, and the new address\'s link confirms with a button', async () => {
    const { visitor, user } = await signUpByForm(t);
    // Changing the address needs a fresh check (test/pages/step-up.test.ts covers the refusal).
    await stepUpByForm(visitor, user.password, '/account/email');
    await visitor.get('/account/email');
    const fresh = `moved-${user.username}@example.net`;
    const asked = await visitor.post('/account/email', { email: fresh });
    expect(asked.headers.location).toBe('/account/email?sent=1');
    const token = linkToken((await lastMessage(t, fresh))!.body, '/account/email/confirm?token');
    const confirmPage = await visitor.get(`/account/email/confirm?token=${token}`);
    expect(confirmPage.statusCode).toBe(200);
    const done = await visitor.post('/account/email/confirm', { token });
    expect(done.statusCode).toBe(200);
    expect((await t.db.selectFrom('accounts').select('email').where('username', '=', user.username).executeTakeFirstOrThrow()).email).toBe(fresh);
  });
});
