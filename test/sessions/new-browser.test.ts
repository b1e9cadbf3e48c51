import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, linkToken, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { Visitor, signUpByForm } from '../pages/form.js';
import { addAuthenticator, appCode } from '../twostep/helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const FIREFOX_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** The "new sign-in" e-mails the member has, newest first. */
async function newBrowserMails(email: string) {
  await t.app.verity.outbox.drain();
  const res = await t.app.inject({ method: 'GET', url: `/v1/dev/outbox?to=${encodeURIComponent(email)}` });
  return (res.json() as Array<{ subject: string | null; body: string }>).filter((m) => m.subject?.startsWith('New sign-in'));
}

function apiSignIn(who: { username: string; password: string }, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: who.username, password: who.password }, headers, remoteAddress: randomIp() });
}

function deviceCookieOf(setCookie: string | string[] | undefined): string | undefined {
  return (Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []).find((c) => c.startsWith('verity_device='));
}

async function signInByForm(visitor: Visitor, login: string, password: string) {
  await visitor.get('/login');
  const res = await visitor.post('/login', { login, password, next: '/account' });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
  return res;
}

describe('a sign-in from a browser the account has not used before', () => {
  it('sends nothing for the browser that signed up, nor when it signs in again', async () => {
    const { visitor, user } = await signUpByForm(t);
    expect(visitor.cookies.get('verity_device')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const login of [user.username, user.email]) {
      await visitor.get('/account');
      expect((await visitor.post('/logout', {})).statusCode).toBe(303);
      await signInByForm(visitor, login, user.password);
    }
    expect(await newBrowserMails(user.email)).toHaveLength(0);
  });

  it('e-mails the member once, saying when, which browser, where, with a "this wasn\'t me" link that locks the account', async () => {
    const { user } = await signUpByForm(t);
    const stranger = new Visitor(t);
    await stranger.get('/login');
    const res = await t.app.inject({
      method: 'POST',
      url: '/login',
      headers: { cookie: stranger.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', 'user-agent': FIREFOX_ON_LINUX, 'cf-ipcountry': 'ph' },
      payload: new URLSearchParams({ _csrf: stranger.csrf, login: user.username, password: user.password, next: '/account' }).toString(),
      remoteAddress: '203.0.113.9',
    });
    expect(res.statusCode).toBe(303);
    const device = deviceCookieOf(res.headers['set-cookie']);
    expect(device).toBeDefined();

    const mails = await newBrowserMails(user.email);
    expect(mails).toHaveLength(1);
    const body = mails[0]!.body;
    expect(mails[0]!.subject).toBe('New sign-in to your Verity account from Firefox on Linux');
    expect(body).toContain('Browser: Firefox on Linux');
    expect(body).toContain('Near: Philippines');
    expect(body).toContain('IP address: 203.0.113.9');
    expect(body).toMatch(/When: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);

    // The same browser again: known now.
    const again = await t.app.inject({ method: 'POST', url: '/v1/sessions', headers: { cookie: device!.split(';')[0]! }, payload: { login: user.username, password: user.password }, remoteAddress: randomIp() });
    expect(again.statusCode).toBe(200);
    expect(await newBrowserMails(user.email)).toHaveLength(1);

    const notMe = linkToken(body, '/recover/not-me');
    expect((await t.app.inject({ method: 'POST', url: `/v1/recovery/not-me/${notMe}` })).statusCode).toBe(200);
    const locked = await apiSignIn(user);
    expect(locked.statusCode).toBe(423);
    expect(problem(locked).code).toBe('account_locked');
    expect((await t.app.inject({ method: 'POST', url: `/v1/recovery/not-me/${notMe}` })).statusCode).toBe(410);
  });

  it('sets the device cookie HttpOnly, SameSite=Lax, for 400 days, on the page and on the API answer', async () => {
    const member = await signUp(t);
    const res = await apiSignIn(member);
    const cookie = deviceCookieOf(res.headers['set-cookie']);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//i);
    expect(cookie).toMatch(/; Max-Age=34560000/i);
    // Plain HTTP in development: not Secure (production: test/pages/production.test.ts).
    expect(cookie).not.toMatch(/; Secure/i);
  });

  it('treats an API client without cookies as a new browser at every sign-in, and one that keeps the cookie as known', async () => {
    const member: SignedUp = await signUp(t);
    // The sign-up answer's cookie was not kept, so this is a browser the account never saw.
    expect((await apiSignIn(member, { 'user-agent': 'billing-service/2.1' })).statusCode).toBe(200);
    expect((await apiSignIn(member, { 'user-agent': 'billing-service/2.1' })).statusCode).toBe(200);
    const mails = await newBrowserMails(member.email);
    expect(mails).toHaveLength(2);
    expect(mails[0]!.body).toContain('Browser: An app (billing-service/2.1)');

    const kept = deviceCookieOf((await apiSignIn(member)).headers['set-cookie'])!.split(';')[0]!;
    expect(await newBrowserMails(member.email)).toHaveLength(3);
    expect((await apiSignIn(member, { cookie: kept })).statusCode).toBe(200);
    expect((await apiSignIn(member, { cookie: kept })).statusCode).toBe(200);
    expect(await newBrowserMails(member.email)).toHaveLength(3);
  });

  it('counts a sign-in completed through a two-step challenge, once, in the transaction that opens the session', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    t.clock.advance(60_000);
    const first = await apiSignIn(member);
    expect(first.json().status).toBe('two_step_required');
    // Nothing yet: the password alone opens no session and tells nothing.
    expect(await newBrowserMails(member.email)).toHaveLength(0);
    const challenge = first.json().challenge.id as string;
    const wrong = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge}/verify`, payload: { method: 'totp', code: '000000' } });
    expect(wrong.statusCode).toBe(422);
    expect(await newBrowserMails(member.email)).toHaveLength(0);
    const passed = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge}/verify`, payload: { method: 'totp', code: appCode(t, secret) } });
    expect(passed.statusCode, passed.body).toBe(200);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(passed.json().session.token) });
    expect(me.statusCode).toBe(200);
    expect(await newBrowserMails(member.email)).toHaveLength(1);

    // The browser that passed is known from now on.
    const kept = deviceCookieOf(passed.headers['set-cookie'])!.split(';')[0]!;
    t.clock.advance(60_000);
    const second = await apiSignIn(member, { cookie: kept });
    const again = await t.app.inject({ method: 'POST', url: `/v1/challenges/${second.json().challenge.id}/verify`, headers: { cookie: kept }, payload: { method: 'totp', code: appCode(t, secret) } });
    expect(again.statusCode).toBe(200);
    expect(await newBrowserMails(member.email)).toHaveLength(1);
  });

  it('sends one e-mail when two sign-ins from one new browser race (the database decides)', async () => {
    const member = await signUp(t);
    // A browser another account uses: its cookie is new to this one.
    const elsewhere = await signUp(t);
    const cookie = deviceCookieOf((await apiSignIn(elsewhere)).headers['set-cookie'])!.split(';')[0]!;
    const both = await Promise.all([apiSignIn(member, { cookie }), apiSignIn(member, { cookie })]);
    expect(both.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(await newBrowserMails(member.email)).toHaveLength(1);
  });

  it('ignores a device cookie of the wrong shape (a new id is issued)', async () => {
    const member = await signUp(t);
    const res = await apiSignIn(member, { cookie: 'verity_device=<script>' });
    const cookie = deviceCookieOf(res.headers['set-cookie'])!;
    expect(cookie).toMatch(/^verity_device=[A-Za-z0-9_-]{43};/);
    expect(await newBrowserMails(member.email)).toHaveLength(1);
  });

  it('stores only an HMAC of the device cookie', async () => {
    const member = await signUp(t);
    const value = deviceCookieOf((await apiSignIn(member)).headers['set-cookie'])!.split(';')[0]!.split('=')[1]!;
    const rows = await t.db.selectFrom('known_devices').selectAll().where('account_id', '=', member.id).execute();
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(rows)).not.toContain(value);
  });
});
