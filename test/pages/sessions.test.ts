import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createTestApp, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { control, decode, signUpByForm, textOf, Visitor } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function signIn(login: string, password: string, next?: string) {
  const visitor = new Visitor(t);
  await visitor.get(next === undefined ? '/login' : `/login?next=${encodeURIComponent(next)}`);
  const res = await visitor.post('/login', { login, password, ...(next === undefined ? {} : { next }) });
  return { visitor, res };
}

describe('the sign-in page', () => {
  it('signs in with the username or the e-mail and redirects (303) to /account', async () => {
    const member = await signUp(t);
    for (const login of [member.username, member.email.toUpperCase()]) {
      const { visitor, res } = await signIn(login, member.password);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/account');
      expect(visitor.lastSetCookies.get('verity_session')).toMatch(/HttpOnly; SameSite=Lax/i);
      expect((await visitor.get('/account')).body).toContain(member.username);
    }
  });

  it('refuses a wrong password with a 401 page: the error beside the field, the login kept, no session', async () => {
    const member = await signUp(t);
    const before = await countRows(t.db, 'sessions');
    const { visitor, res } = await signIn(member.username, 'not the right password');
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(textOf(res.body, 'f-password-error')).toBe('The username, e-mail or password is not right.');
    expect(control(res.body, 'password')!['aria-invalid']).toBe('true');
    expect(control(res.body, 'password')!.value).toBe('');
    expect(control(res.body, 'login')!.value).toBe(member.username);
    expect(res.body).not.toContain('not the right password');
    expect(res.body).toMatch(/<title>Error: /);
    expect(visitor.cookies.has('verity_session')).toBe(false);
    expect(await countRows(t.db, 'sessions')).toBe(before);
  });

  it('keeps the page to return to through a failed attempt', async () => {
    const member = await signUp(t);
    const { visitor, res } = await signIn(member.username, 'wrong password', '/account/security');
    expect(res.statusCode).toBe(401);
    expect(control(res.body, 'next')!.value).toBe('/account/security');
    const again = await visitor.post('/login', { login: member.username, password: member.password, next: '/account/security' });
    expect(again.headers.location).toBe('/account/security');
  });

  it('answers an unknown login exactly like a wrong password', async () => {
    const { res } = await signIn('nobody-by-this-name', 'whatever password');
    expect(res.statusCode).toBe(401);
    expect(textOf(res.body, 'f-password-error')).toBe('The username, e-mail or password is not right.');
  });

  it('returns to the page that asked for sign-in', async () => {
    const member = await signUp(t);
    const { visitor, res } = await signIn(member.username, member.password, '/account/security?done=others');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/security?done=others');
    expect((await visitor.get(res.headers.location as string)).statusCode).toBe(200);
  });

  it.each(['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', '/%0d%0aSet-Cookie:x=y', ' //evil.example'])(
    'never redirects off-site, even with next=%s',
    async (next) => {
      const member = await signUp(t);
      const { res } = await signIn(member.username, member.password, next);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/account');
      const page = await new Visitor(t).get(`/login?next=${encodeURIComponent(next)}`);
      expect(page.body).toContain('name="next" value="/account"');
    },
  );

  it('warns when 3 tries are left, then locks: 423 above the form saying when in words, with Retry-After, the login kept', async () => {
    const member = await signUp(t);
    const visitor = new Visitor(t);
    await visitor.get('/login');
    for (let i = 0; i < 6; i++) expect((await visitor.post('/login', { login: member.username, password: `wrong guess ${i}` })).statusCode).toBe(401);
    const warned = await visitor.post('/login', { login: member.username, password: 'wrong guess 7' });
    expect(textOf(warned.body, 'f-password-error')).toBe('The username, e-mail or password is not right. 3 tries left before signing in is paused for a while.');
    for (let i = 8; i <= 10; i++) expect((await visitor.post('/login', { login: member.username, password: `wrong guess ${i}` })).statusCode).toBe(401);
    const res = await visitor.post('/login', { login: member.username, password: member.password });
    expect(res.statusCode).toBe(423);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    const message = /<div class="form-error" role="alert"><p>([^<]+)<\/p>/.exec(res.body)?.[1];
    expect(message).toMatch(/^Too many failed sign-ins\. Try again in 1[56] minutes, or reset your password\.$/);
    expect(control(res.body, 'login')!.value).toBe(member.username);
  });

  it('sends a signed-in member from /login straight to the next page', async () => {
    const { visitor } = await signUpByForm(t);
    const res = await visitor.get('/login?next=%2Faccount%2Fsecurity');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/security');
  });
});

describe('signing out', () => {
  it('revokes the session and redirects (303) to /; the old cookie no longer opens /account', async () => {
    const { visitor } = await signUpByForm(t);
    await visitor.get('/account');
    const stolen = visitor.cookieHeader();
    const res = await visitor.post('/logout', {});
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(visitor.lastSetCookies.get('verity_session')).toMatch(/Expires=Thu, 01 Jan 1970/i);
    const replay = await t.app.inject({ method: 'GET', url: '/account', headers: { cookie: stolen } });
    expect(replay.statusCode).toBe(303);
    expect(replay.headers.location).toBe('/login?next=%2Faccount');
    expect((await visitor.get('/')).body).toContain('href="/login"');
  });

  it('sends a form posted after the session ended to /login, not back to the POST-only address', async () => {
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/account');
    const account = await t.db.selectFrom('accounts').select('id').where('username', '=', user.username).executeTakeFirstOrThrow();
    await t.db.updateTable('sessions').set({ revoked_at: t.clock.now() }).where('account_id', '=', account.id).execute();
    const res = await visitor.post('/account', { fullName: 'Too late', country: 'PH', roles: 'client' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login');
  });
});

describe('the security page', () => {
  it('lists the sessions, marks this one, and signs out everywhere else', async () => {
    const member = await signUp(t); // an API session
    const other = await signIn(member.username, member.password);
    const { visitor } = await signIn(member.username, member.password);
    const page = await visitor.get('/account/security');
    expect(page.statusCode).toBe(200);
    expect(page.body.match(/data-testid="session"/g)).toHaveLength(3);
    expect(page.body.match(/this device/g)).toHaveLength(1);

    const res = await visitor.post('/account/security/sessions/revoke-others', {});
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/security?done=others');
    const after = await visitor.get('/account/security?done=others');
    expect(after.body).toContain('Every other session is signed out.');
    expect(after.body.match(/data-testid="session"/g)).toHaveLength(1);
    expect(after.body).not.toContain('Sign out everywhere else');
    expect((await other.visitor.get('/account')).statusCode).toBe(303);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${member.token}` } })).statusCode).toBe(401);
  });

  it('names each device in words ("Chrome on Linux") and says when it signed in, by the server clock', async () => {
    const member = await signUp(t);
    const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
    for (const ua of [chrome, iphone]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'user-agent': ua }, payload: { login: member.username, password: member.password }, remoteAddress: randomIp() });
      expect(res.statusCode).toBe(200);
    }
    t.clock.advanceSeconds(2 * 3600 + 60);
    const { visitor } = await signIn(member.username, member.password);
    const devices = async () => {
      const page = await visitor.get('/account/security');
      return [...page.body.matchAll(/<li class="session"[\s\S]*?data-testid="session-device">([^<]*)<[\s\S]*?data-testid="session-signed-in">([^<]*)</g)].map((m) => `${decode(m[1]!)}, ${m[2]}`);
    };
    // The API's sign-up session, the two browsers, then this page's own visitor (newest first or not: compare as a set).
    expect((await devices()).sort()).toEqual(['An app (lightMyRequest), 2 hours ago', 'An app (lightMyRequest), just now', 'Chrome on Linux, 2 hours ago', 'Safari on iOS, 2 hours ago']);
    const page = await visitor.get('/account/security');
    expect(page.body).not.toContain('Mozilla/5.0');
    expect(page.body).toMatch(/<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC"/);

    t.clock.advanceSeconds(24 * 3600); // visiting again keeps this session alive, the others only idle
    const later = await devices();
    expect(later).toContain('An app (lightMyRequest), yesterday');
  });

  it('signs out one other session', async () => {
    const member = await signUp(t);
    const other = await signIn(member.username, member.password);
    const { visitor } = await signIn(member.username, member.password);
    const page = await visitor.get('/account/security');
    const ids = [...page.body.matchAll(/action="\/account\/security\/sessions\/([0-9a-f-]{36})\/revoke"/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2); // not the current one
    for (const id of ids) expect((await visitor.post(`/account/security/sessions/${id}/revoke`, {})).statusCode).toBe(303);
    expect((await other.visitor.get('/account')).statusCode).toBe(303);
    expect((await visitor.get('/account')).statusCode).toBe(200);
  });
});

describe('closing the account from the page', () => {
  it('shows a wrong password beside the password field and changes nothing', async () => {
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/account/security');
    const sessions = await countRows(t.db, 'sessions');
    const res = await visitor.post('/account/close', { password: 'not my password at all' });
    expect(res.statusCode).toBe(401);
    expect(textOf(res.body, 'f-password-error')).toBe('The password is not right.');
    expect(control(res.body, 'password')!['aria-invalid']).toBe('true');
    expect(res.body).not.toContain('not my password at all');
    expect(res.body).toContain('this device'); // the rest of the page is still there
    expect(await countRows(t.db, 'sessions')).toBe(sessions);
    const row = await t.db.selectFrom('accounts').select(['status', 'closed_at']).where('username', '=', user.username).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'active', closed_at: null });
    expect((await visitor.get('/account')).statusCode).toBe(200);
  });

  it('with the right password signs out, says so, and refuses sign-in afterwards', async () => {
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/account/security');
    const res = await visitor.post('/account/close', { password: user.password });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/?closed=1');
    expect(visitor.cookies.has('verity_session')).toBe(false);
    const home = await visitor.get('/?closed=1');
    expect(home.body).toContain('Your account is closed.');
    const { res: again } = await signIn(user.username, user.password);
    expect(again.statusCode).toBe(401);
  });
});
