import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

// "é" as one code point (NFC, how sign-up stores it) and as "e" plus a combining accent (NFD,
// how some keyboards and macOS send it).
const composed = (tag: string) => `jos\u00e9.${tag}@example.com`;
const decomposed = (tag: string) => `jose\u0301.${tag}@example.com`;

describe('logins are NFC-normalised like sign-up e-mails', () => {
  it('signs in through the API with the e-mail typed decomposed', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const member = await signUp(t, { email: decomposed(tag) });
    const stored = await t.db.selectFrom('accounts').select('email').where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(stored.email).toBe(composed(tag)); // sign-up normalised it
    for (const login of [decomposed(tag), composed(tag), ` ${decomposed(tag).toUpperCase()} `]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password: member.password }, remoteAddress: randomIp() });
      expect(res.statusCode, JSON.stringify(login)).toBe(200);
    }
  });

  it('signs in on the page with the e-mail typed decomposed', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const member = await signUp(t, { email: composed(tag) });
    const visitor = new Visitor(t);
    await visitor.get('/login');
    const res = await visitor.post('/login', { login: decomposed(tag), password: member.password });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account');
  });

  it('counts failures against one login however it is typed', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    await signUp(t, { email: composed(tag) });
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const login = i % 2 ? composed(tag) : decomposed(tag);
      const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password: `wrong password ${i}` }, remoteAddress: ip });
      statuses.push(res.statusCode);
    }
    // One counter for both spellings (from one source): the lock comes after 10 failures, not 20.
    expect(statuses.slice(-1)).toEqual([423]);
  });
});
