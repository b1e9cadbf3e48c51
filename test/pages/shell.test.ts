import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createTestApp, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';
import { encodeForm, expectSecureHeaders, signUpByForm, Visitor } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('the web shell', () => {
  it.each(['/', '/signup', '/login', '/dev/outbox', '/verify-email?token=nope'])('serves %s as HTML with a strict CSP', async (url) => {
    const res = await new Visitor(t).get(url);
    expect([200, 410]).toContain(res.statusCode);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(expectSecureHeaders(res)).toEqual([]);
    expect(res.body).toMatch(/^<!doctype html>/);
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(res.body).not.toMatch(/\son[a-z]+="/); // no inline event handlers
  });

  it.each(['/account', '/account/security', '/admin'])('serves the signed-in page %s as HTML with a strict CSP', async (url) => {
    const { visitor } = await signUpByForm(t);
    const res = await visitor.get(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(expectSecureHeaders(res)).toEqual([]);
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body.match(/aria-current="page"/g) ?? []).toHaveLength(url === '/admin' ? 0 : 1); // no nav link for non-staff
    if (url !== '/admin') expect(res.body).toContain(`<a href="${url}" aria-current="page">`);
  });

  it.each(['/account', '/account/security', '/admin', '/account/security?done=others'])('sends a visitor who is not signed in from %s to /login and back', async (url) => {
    const visitor = new Visitor(t);
    const res = await visitor.get(url);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(url)}`);
    const login = await visitor.get(res.headers.location as string);
    expect(login.body).toContain(`name="next" value="${url.replace('&', '&amp;')}"`);
  });

  it('answers an unknown page with a 404 HTML page, and an unknown API path with a problem', async () => {
    const page = await new Visitor(t).get('/no/such/page');
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('Page not found');
    expect(expectSecureHeaders(page)).toEqual([]);
    const api = await t.app.inject({ method: 'GET', url: '/v1/no/such/thing' });
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-type']).toContain('application/problem+json');
  });

  it('renders no notices banner when there are no notices', async () => {
    const res = await new Visitor(t).get('/');
    expect(res.body).not.toContain('class="notices"');
    expect(res.body).not.toContain('aria-label="Notices"');
  });

  it('renders the notices the notices domain gives, escaped', async () => {
    const original = t.app.verity.notices;
    t.app.verity.notices = { forViewer: async () => [{ message: 'Maintenance <tonight>', icon: 'warning', scope: 'global', key: '0123456789abcdef' }] };
    try {
      const res = await new Visitor(t).get('/login');
      expect(res.body).toContain('aria-label="Notices"');
      expect(res.body).toContain('Maintenance &lt;tonight&gt;');
    } finally {
      t.app.verity.notices = original;
    }
  });

  it('serves the stylesheet and script from the same origin', async () => {
    const css = await t.app.inject({ method: 'GET', url: '/static/style.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    const js = await t.app.inject({ method: 'GET', url: '/static/app.js' });
    expect(js.statusCode).toBe(200);
  });
});

describe('CSRF on every form', () => {
  const forms = ['/signup', '/login', '/logout', '/account', '/account/close', '/account/email-verification', '/account/security/sessions/revoke-others', '/admin/setup'];

  it.each(forms)('refuses a POST to %s without a CSRF token (403), changing nothing', async (url) => {
    const { visitor, user } = await signUpByForm(t);
    const counts = { accounts: await countRows(t.db, 'accounts'), sessions: await countRows(t.db, 'sessions'), audit: await countRows(t.db, 'audit_events') };
    const res = await visitor.post(url, { _csrf: '', ...uniqueUser(), login: user.username, password: user.password, token: 'x', fullName: 'Changed' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('Form expired');
    expect({ accounts: await countRows(t.db, 'accounts'), sessions: await countRows(t.db, 'sessions'), audit: await countRows(t.db, 'audit_events') }).toEqual(counts);
    expect((await visitor.get('/account')).statusCode).toBe(200); // still signed in
  });

  it('refuses a token from another visitor (it is bound to the CSRF cookie)', async () => {
    const mine = new Visitor(t);
    const theirs = new Visitor(t);
    await mine.get('/signup');
    await theirs.get('/signup');
    const before = await countRows(t.db, 'accounts');
    const user = uniqueUser();
    const res = await mine.post('/signup', { ...user, _csrf: theirs.csrf });
    expect(res.statusCode).toBe(403);
    expect(await countRows(t.db, 'accounts')).toBe(before);
  });

  it('refuses a form post with no CSRF cookie at all', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    visitor.cookies.clear();
    const before = await countRows(t.db, 'accounts');
    const res = await visitor.post('/signup', { ...uniqueUser() });
    expect(res.statusCode).toBe(403);
    expect(await countRows(t.db, 'accounts')).toBe(before);
  });
});

describe('the API is JSON only', () => {
  it.each([
    ['application/x-www-form-urlencoded', (u: Record<string, string | string[]>) => encodeForm(u)],
    ['text/plain', (u: Record<string, string | string[]>) => JSON.stringify(u)],
    ['multipart/form-data; boundary=x', () => '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--x--\r\n'],
  ])('refuses %s bodies with 415, so cross-site forms cannot reach it', async (type, body) => {
    const before = await countRows(t.db, 'accounts');
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', headers: { 'content-type': type }, payload: body(uniqueUser()), remoteAddress: randomIp() });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('unsupported_media_type');
    expect(await countRows(t.db, 'accounts')).toBe(before);
  });

  it('refuses a form-encoded sign-in, and a text/plain post that carries the session cookie', async () => {
    const member = await signUp(t);
    const signIn = await t.app.inject({
      method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: encodeForm({ login: member.username, password: member.password }), remoteAddress: randomIp(),
    });
    expect(signIn.statusCode).toBe(415);
    const outbox = await countRows(t.db, 'outbox');
    // Even from the site's own origin (a cross-site one is refused earlier, 403: cookie-writes.test.ts).
    const resend = await t.app.inject({
      method: 'POST', url: '/v1/me/email-verification', headers: { 'content-type': 'text/plain', cookie: `verity_session=${member.token}`, origin: 'http://localhost:3000' }, payload: 'x',
    });
    expect(resend.statusCode).toBe(415);
    expect(await countRows(t.db, 'outbox')).toBe(outbox);
  });
});
