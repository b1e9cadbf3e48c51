import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, signUp, type TestApp } from '../helpers/app.js';
import { expectSecureHeaders, Visitor } from './form.js';

/** Production settings (real transports are configured, but the test doubles still deliver). */
const PRODUCTION = {
  NODE_ENV: 'production',
  TRUST_PROXY: 'none',
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

/** What a browser demands of a `__Host-` cookie: Secure, Path=/ and no Domain. */
function expectHostCookie(cookie: string | undefined): void {
  expect(cookie).toMatch(/^__Host-/);
  expect(cookie).toMatch(/; Secure/i);
  expect(cookie).toMatch(/; Path=\/(;|$)/i);
  expect(cookie).not.toMatch(/; Domain=/i);
  expect(cookie).toMatch(/; HttpOnly/i);
  expect(cookie).toMatch(/; SameSite=Lax/i);
}

describe('the web shell in production', () => {
  it('names the CSRF cookie __Host-verity_csrf: Secure, Path=/, no Domain, HttpOnly and signed', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    expect(visitor.lastSetCookies.has('verity_csrf')).toBe(false);
    const cookie = visitor.lastSetCookies.get('__Host-verity_csrf');
    expectHostCookie(cookie);
    expect(cookie).toMatch(/^__Host-verity_csrf=[^;]+\.[^;]+;/); // value.signature
  });

  it('names the session cookie __Host-verity_session at sign-up, and signs in with it alone', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    const res = await visitor.post('/signup', { email: 'prod-cookie@example.com', username: 'prodcookie', password: 'correct horse battery staple', country: 'PH', roles: 'freelancer' });
    expect(res.statusCode).toBe(303);
    expect(visitor.lastSetCookies.has('verity_session')).toBe(false);
    const cookie = visitor.lastSetCookies.get('__Host-verity_session');
    expectHostCookie(cookie);
    expect((await visitor.get('/account')).statusCode).toBe(200);

    // The same token under the bare name (as a sibling subdomain could set it) signs nobody in.
    const token = visitor.cookies.get('__Host-verity_session')!;
    const bare = await t.app.inject({ method: 'GET', url: '/account', headers: { cookie: `verity_session=${token}` } });
    expect(bare.statusCode).toBe(303);
    expect(bare.headers.location).toBe('/login?next=%2Faccount');
  });

  it('names the device cookie __Host-verity_device: Secure, HttpOnly, SameSite=Lax, and knows the browser by it', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    await visitor.post('/signup', { email: 'prod-device@example.com', username: 'proddevice', password: 'correct horse battery staple', country: 'PH', roles: 'freelancer' });
    expect(visitor.lastSetCookies.has('verity_device')).toBe(false);
    expectHostCookie(visitor.lastSetCookies.get('__Host-verity_device'));
    const known = await t.app.inject({ method: 'POST', url: '/v1/sessions', headers: { cookie: `__Host-verity_device=${visitor.cookies.get('__Host-verity_device')!}` }, payload: { login: 'proddevice', password: 'correct horse battery staple' } });
    expect(known.statusCode).toBe(200);
    const rows = await t.db.selectFrom('known_devices').select('first_seen_at').where('account_id', '=', known.json().account.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('clears the __Host- session cookie at sign-out with the same attributes', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    await visitor.post('/signup', { email: 'prod-out@example.com', username: 'prodout', password: 'correct horse battery staple', country: 'PH', roles: 'freelancer' });
    await visitor.get('/account');
    const res = await visitor.post('/logout', {});
    expect(res.statusCode).toBe(303);
    expectHostCookie(visitor.lastSetCookies.get('__Host-verity_session'));
    expect(visitor.cookies.has('__Host-verity_session')).toBe(false);
  });

  it('names the cookie of a visitor\'s dismissed notices __Host-verity_notices_dismissed', async () => {
    const admin = await signUp(t);
    await t.db.insertInto('staff_roles').values({ account_id: admin.id, role: 'admin', granted_by: null, granted_at: t.clock.now() }).execute();
    const feed = { global: { message: 'Maintenance tonight.', icon: 'info', start: '', end: '' }, responsive: [] };
    const put = await t.app.inject({ method: 'PUT', url: '/v1/admin/notices/feed', headers: auth(admin.token), payload: feed });
    expect(put.statusCode).toBe(200);
    const visitor = new Visitor(t);
    const page = await visitor.get('/');
    const key = /name="key" value="([0-9a-f]{16})"/.exec(page.body)![1]!;
    const res = await visitor.post('/notices/dismiss', { key, next: '/' });
    expect(res.statusCode).toBe(303);
    expectHostCookie(visitor.lastSetCookies.get('__Host-verity_notices_dismissed'));
    expect((await visitor.get('/')).body).not.toContain('Maintenance tonight.');
  });

  it('has no development outbox page, and keeps the strict headers and HSTS', async () => {
    const res = await new Visitor(t).get('/dev/outbox');
    expect(res.statusCode).toBe(404);
    const home = await new Visitor(t).get('/');
    expect(expectSecureHeaders(home)).toEqual([]);
    expect(home.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });
});
