import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectSecureHeaders, Visitor } from './form.js';

/** Production settings (real transports are configured, but the test doubles still deliver). */
const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://verity.example',
  EMAIL_TRANSPORT: 'smtp',
  SMTP_URL: 'smtp://127.0.0.1:2525',
  SMS_TRANSPORT: 'twilio',
  TWILIO_ACCOUNT_SID: 'AC0123456789',
  TWILIO_AUTH_TOKEN: 'token',
  TWILIO_FROM: '+15005550006',
};

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: PRODUCTION });
});
afterAll(async () => {
  await t.close();
});

describe('the web shell in production', () => {
  it('marks the CSRF cookie Secure, HttpOnly and signed', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    const cookie = visitor.lastSetCookies.get('verity_csrf')!;
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/^verity_csrf=[^;]+\.[^;]+;/); // value.signature
  });

  it('sets Secure, HttpOnly and SameSite=Lax on the session cookie at sign-up', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    const res = await visitor.post('/signup', { email: 'prod-cookie@example.com', username: 'prodcookie', password: 'correct horse battery staple', country: 'PH', roles: 'freelancer' });
    expect(res.statusCode).toBe(303);
    const cookie = visitor.lastSetCookies.get('verity_session')!;
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
  });

  it('has no development outbox page, and keeps the strict headers and HSTS', async () => {
    const res = await new Visitor(t).get('/dev/outbox');
    expect(res.statusCode).toBe(404);
    const home = await new Visitor(t).get('/');
    expect(expectSecureHeaders(home)).toEqual([]);
    expect(home.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });
});
