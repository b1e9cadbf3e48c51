import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, problem, signUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(); // PUBLIC_URL http://localhost:3000
});
afterAll(async () => {
  await t.close();
});

const SITE = 'http://localhost:3000';
const cookie = (token: string) => ({ cookie: `verity_session=${token}` });

/** Headers a browser sends with a fetch() from each kind of page. */
const from = {
  site: { origin: SITE, 'sec-fetch-site': 'same-origin' },
  siteOldBrowser: { origin: SITE },
  siblingSubdomain: { origin: 'http://evil.localhost:3000', 'sec-fetch-site': 'same-site' },
  otherSite: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
  nullOrigin: { origin: 'null' },
  spoofedOrigin: { origin: SITE, 'sec-fetch-site': 'same-site' },
  noHeaders: {},
};

describe('a JSON API write authenticated by the session cookie', () => {
  it('is refused (403 forbidden) unless it comes from the site itself, changing nothing', async () => {
    const member = await signUp(t);
    const before = await countRows(t.db, 'outbox');
    for (const [name, headers] of Object.entries(from)) {
      if (name === 'site' || name === 'siteOldBrowser') continue;
      // Today's hole: no body, no CSRF token, only the cookie.
      const res = await t.app.inject({ method: 'POST', url: '/v1/me/email-verification', headers: { ...cookie(member.token), ...headers } });
      expect(res.statusCode, name).toBe(403);
      expect(res.headers['content-type'], name).toContain('application/problem+json');
      expect(problem(res), name).toMatchObject({ code: 'forbidden', status: 403 });
      expect(problem(res).detail, name).toMatch(/session cookie/);
    }
    expect(await countRows(t.db, 'outbox')).toBe(before);

    const patch = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: { ...cookie(member.token), ...from.otherSite }, payload: { fullName: 'Cross Site' } });
    expect(patch.statusCode).toBe(403);
    const signOut = await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { ...cookie(member.token), ...from.siblingSubdomain } });
    expect(signOut.statusCode).toBe(403);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(me.statusCode).toBe(200); // still signed in
    expect(me.json().fullName).toBeNull();
  });

  it("goes through from the site's own pages (Sec-Fetch-Site same-origin, or only an Origin of PUBLIC_URL)", async () => {
    const member = await signUp(t);
    const before = await countRows(t.db, 'outbox');
    const res = await t.app.inject({ method: 'POST', url: '/v1/me/email-verification', headers: { ...cookie(member.token), ...from.site } });
    expect(res.statusCode).toBe(202);
    expect(await countRows(t.db, 'outbox')).toBe(before + 1);
    const patch = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: { ...cookie(member.token), ...from.siteOldBrowser }, payload: { fullName: 'Same Site' } });
    expect(patch.statusCode).toBe(200);
  });

  it('does not concern reads, nor bearer-token clients wherever they are', async () => {
    const member = await signUp(t);
    const read = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { ...cookie(member.token), ...from.otherSite } });
    expect(read.statusCode).toBe(200);
    for (const headers of [from.otherSite, from.noHeaders]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/me/email-verification', headers: { ...auth(member.token), ...cookie(member.token), ...headers } });
      expect(res.statusCode).toBe(202);
    }
    // A request without any session cookie is not touched either (sign-in from anywhere).
    const signIn = await t.app.inject({ method: 'POST', url: '/v1/sessions', headers: from.otherSite, payload: { login: member.username, password: member.password } });
    expect(signIn.statusCode).toBe(200);
  });
});
