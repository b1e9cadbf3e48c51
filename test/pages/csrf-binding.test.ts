import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { encodeForm, signUpByForm, Visitor } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function fullName(username: string): Promise<string | null> {
  const row = await t.db.selectFrom('accounts').select('full_name').where('username', '=', username).executeTakeFirstOrThrow();
  return row.full_name;
}

/** A form post with exactly these cookies and this token, as a planted cookie would make it. */
function postWith(cookies: Record<string, string>, url: string, fields: Record<string, string | string[]>) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: { cookie: Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    payload: encodeForm(fields),
  });
}

const rename = { fullName: 'Renamed By Attacker', country: 'PH', roles: 'freelancer' };

describe('a planted CSRF cookie (cookie injection)', () => {
  it("does not let an attacker's own token and cookie change a signed-in victim's name", async () => {
    const { visitor: victim, user } = await signUpByForm(t);
    await victim.get('/account');

    // The attacker gets a matching token + cookie pair twice: signed out, and signed in as themselves.
    const anonymous = new Visitor(t);
    await anonymous.get('/login');
    const { visitor: attacker } = await signUpByForm(t);
    await attacker.get('/account');

    for (const pair of [anonymous, attacker]) {
      const plantedCookie = pair.cookies.get('verity_csrf')!;
      expect(plantedCookie).toBeTruthy();
      const res = await postWith({ verity_session: victim.cookies.get('verity_session')!, verity_csrf: plantedCookie }, '/account', { _csrf: pair.csrf, ...rename });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('Form expired');
    }
    expect(await fullName(user.username)).toBeNull();

    // The victim's own page still works (the refusals above were the binding, not the form).
    const own = await victim.post('/account', { fullName: 'Ana Reyes', country: 'PH', roles: 'freelancer' });
    expect(own.statusCode).toBe(303);
    expect(await fullName(user.username)).toBe('Ana Reyes');
  });

  it("does not let one member's page token work with another member's session", async () => {
    const { visitor: first, user } = await signUpByForm(t);
    const { visitor: second } = await signUpByForm(t);
    await first.get('/account');
    await second.get('/account');
    // Same CSRF cookie and token as the second member's browser, but the first member's session.
    const res = await postWith({ verity_session: first.cookies.get('verity_session')!, verity_csrf: second.cookies.get('verity_csrf')! }, '/account', { _csrf: second.csrf, ...rename });
    expect(res.statusCode).toBe(403);
    expect(await fullName(user.username)).toBeNull();
  });
});

describe('CSRF tokens at sign-in', () => {
  it('rotate: a token from the signed-out login page is refused once signed in', async () => {
    const { user } = await signUpByForm(t);

    const visitor = new Visitor(t);
    await visitor.get('/login');
    const before = visitor.csrf;
    const signedIn = await visitor.post('/login', { login: user.username, password: user.password, next: '/account' });
    expect(signedIn.statusCode).toBe(303);
    expect(visitor.cookies.get('verity_session')).toBeTruthy();

    // Same browser, same CSRF cookie, the token from before sign-in.
    const stale = await visitor.post('/account', { _csrf: before, ...rename });
    expect(stale.statusCode).toBe(403);
    expect(stale.body).toContain('Form expired');
    expect(await fullName(user.username)).toBeNull();

    // A page fetched after sign-in carries a new token, which works.
    const page = await visitor.get('/account');
    expect(visitor.csrf).not.toBe(before);
    expect(page.statusCode).toBe(200);
    const saved = await visitor.post('/account', { fullName: 'After Sign-in', country: 'PH', roles: 'freelancer' });
    expect(saved.statusCode).toBe(303);
    expect(await fullName(user.username)).toBe('After Sign-in');
  });

  it('rotate again at sign-out: a signed-in token does not sign anyone in afterwards', async () => {
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/account');
    const signedInToken = visitor.csrf;
    await visitor.post('/logout', {});
    expect(visitor.cookies.has('verity_session')).toBe(false);
    const res = await visitor.post('/login', { _csrf: signedInToken, login: user.username, password: user.password });
    expect(res.statusCode).toBe(403);
    expect(visitor.cookies.has('verity_session')).toBe(false);
  });
});
