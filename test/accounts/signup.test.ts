import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('sign-up', () => {
  it('creates one account with its roles and a session, and sends a verification e-mail', async () => {
    const user = { ...uniqueUser(), roles: ['freelancer', 'client'], fullName: 'Ana Reyes' };
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: user, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.account).toMatchObject({ email: user.email, username: user.username, roles: ['freelancer', 'client'], country: 'PH', emailVerified: false, phone: null, status: 'active' });
    expect(body.session.token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(body.session.token) });
    expect(me.statusCode).toBe(200);
    expect(me.json().username).toBe(user.username);

    const mail = await lastMessage(t, user.email);
    expect(mail?.channel).toBe('email');
    expect(mail?.subject).toContain('Confirm your e-mail');
    expect(mail?.body).toContain('http://localhost:3000/verify-email?token=');
  });

  it('verifies the e-mail once with the link token; a second use is refused', async () => {
    const member = await signUp(t);
    const token = linkToken((await lastMessage(t, member.email))!.body, 'verify-email?token');
    const ok = await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().account.emailVerified).toBe(true);
    const again = await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token } });
    expect(again.statusCode).toBe(410);
    expect(problem(again).code).toBe('token_invalid');
  });

  it('expires verification links after 24 hours', async () => {
    const member = await signUp(t);
    const token = linkToken((await lastMessage(t, member.email))!.body, 'verify-email?token');
    t.clock.advanceSeconds(24 * 3600 + 1);
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token } });
    expect(res.statusCode).toBe(410);
  });

  it('refuses a second account with the same e-mail or username, whatever the case', async () => {
    const member = await signUp(t);
    const sameEmail = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), email: member.email.toUpperCase() }, remoteAddress: randomIp() });
    expect(sameEmail.statusCode).toBe(409);
    expect(problem(sameEmail).code).toBe('email_taken');
    const sameName = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), username: member.username.toUpperCase() }, remoteAddress: randomIp() });
    expect(sameName.statusCode).toBe(409);
    expect(problem(sameName).code).toBe('username_taken');
  });

  it('lets exactly one of two racing sign-ups with one e-mail win', async () => {
    const base = uniqueUser();
    const results = await Promise.all(
      [1, 2].map((i) => t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...base, username: `${base.username}r${i}` }, remoteAddress: randomIp() })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
  });

  it.each([
    ['short', 'Use at least 10 characters.'],
    ['password123', 'This is a commonly used password.'],
  ])('refuses the weak password %s with reasons', async (password, reason) => {
    const before = await countRows(t.db, 'accounts');
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), password }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(422);
    expect(problem(res).code).toBe('password_too_weak');
    expect(problem(res).reasons).toContain(reason);
    expect(await countRows(t.db, 'accounts')).toBe(before);
  });

  it('refuses a password that contains the username or e-mail name', async () => {
    const user = uniqueUser();
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...user, password: `${user.username} rocks the house` }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(422);
    expect(problem(res).reasons).toContain('Do not include your username in your password.');
  });

  it('accepts any Unicode password, compared in NFKC', async () => {
    const member = await signUp(t, { password: 'ｆｕｌｌｗｉｄｔｈ 密码 ünïcødé ☃ phrase' });
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: 'fullwidth 密码 ünïcødé ☃ phrase' }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    [{ username: 'ab' }, '/username'],
    [{ username: 'bad name!' }, '/username'],
    [{ email: 'not-an-email' }, '/email'],
    [{ country: 'XX' }, '/country'],
    [{ roles: [] }, '/roles'],
    [{ roles: ['admin'] }, '/roles/0'],
    [{ username: 42 }, '/username'],
    [{ extra: 'field' }, '/extra'],
  ])('refuses %j with 400 naming the field, and stores nothing', async (change, path) => {
    const before = await countRows(t.db, 'accounts');
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), ...change }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(problem(res).code).toBe('invalid_request');
    expect(problem(res).errors?.map((e) => e.path)).toContain(path);
    expect(await countRows(t.db, 'accounts')).toBe(before);
  });

  it('limits sign-ups per IP', async () => {
    const ip = randomIp();
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), password: 'x' }, remoteAddress: ip });
      codes.push(res.statusCode);
    }
    expect(codes.slice(0, 10).every((c) => c === 422)).toBe(true);
    expect(codes[10]).toBe(429);
  });
});
