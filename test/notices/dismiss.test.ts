import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { signUpAdmin, type SignedUpAdmin } from '../help/support.js';
import { encodeForm, signUpByForm, Visitor } from '../pages/form.js';
import { feedWith, putFeed, targeted } from './support.js';

let t: TestApp;
let admin: SignedUpAdmin;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signUpAdmin(t);
});
afterAll(async () => {
  await t.close();
});

const GLOBAL = 'Scheduled maintenance on Sunday night.';
const DELAY = 'Withdrawal codes are delayed in the Philippines.';
const feed = (delay: Record<string, unknown> = {}) => feedWith([targeted({ message: DELAY, country: 'All', usertype: 'all', ...delay })], { message: GLOBAL });

beforeEach(async () => {
  const res = await putFeed(t, admin.token, feed());
  expect(res.statusCode).toBe(200);
});

/** The banners of a page: message → the key its dismiss form posts. */
function banners(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/<div class="notice notice-\w+"[^>]*>[\s\S]*?<p>([\s\S]*?)<\/p>[\s\S]*?name="key" value="([^"]+)"/g)) out.set(m[1]!, m[2]!);
  return out;
}

async function dismiss(visitor: Visitor, page: string, message: string) {
  const shown = banners((await visitor.get(page)).body);
  const key = shown.get(message);
  if (!key) throw new Error(`no banner "${message}" on ${page}`);
  return visitor.post('/notices/dismiss', { key, next: page });
}

async function storedDismissals(accountId?: string): Promise<number> {
  let query = t.db.selectFrom('notice_dismissals').select((eb) => eb.fn.countAll<number>().as('n'));
  if (accountId) query = query.where('account_id', '=', accountId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

async function accountId(username: string): Promise<string> {
  return (await t.db.selectFrom('accounts').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;
}

describe('a member dismisses a notice (a plain form post, no JavaScript)', () => {
  it('is sent back to the page, and the notice is gone from every page and every device', async () => {
    const { visitor, user } = await signUpByForm(t);
    expect([...banners((await visitor.get('/account')).body).keys()]).toEqual([GLOBAL, DELAY]);

    const res = await dismiss(visitor, '/account', DELAY);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account');
    for (const page of ['/account', '/', '/help', '/account/security']) {
      expect([...banners((await visitor.get(page)).body).keys()], page).toEqual([GLOBAL]);
    }
    // Signed in elsewhere (another browser): still dismissed.
    const other = new Visitor(t);
    await other.get('/login');
    await other.post('/login', { login: user.username, password: user.password });
    expect([...banners((await other.get('/')).body).keys()]).toEqual([GLOBAL]);
    // Another member still sees it.
    const { visitor: someoneElse } = await signUpByForm(t);
    expect([...banners((await someoneElse.get('/')).body).keys()]).toEqual([GLOBAL, DELAY]);
  });

  it('stays dismissed while only its times change, and shows again once its text or kind changes', async () => {
    const { visitor } = await signUpByForm(t);
    await dismiss(visitor, '/', DELAY);
    await putFeed(t, admin.token, feed({ end: '2099-01-01T00:00:00Z' }));
    expect([...banners((await visitor.get('/')).body).keys()]).toEqual([GLOBAL]);

    await putFeed(t, admin.token, feed({ message: `${DELAY} A fix is on its way.` }));
    expect([...banners((await visitor.get('/')).body).keys()]).toEqual([GLOBAL, `${DELAY} A fix is on its way.`]);

    // The same words back again are the notice that was put away.
    await putFeed(t, admin.token, feed());
    expect([...banners((await visitor.get('/')).body).keys()]).toEqual([GLOBAL]);
    await putFeed(t, admin.token, feed({ icon: 'error' }));
    expect([...banners((await visitor.get('/')).body).keys()]).toEqual([GLOBAL, DELAY]);
  });

  it('keeps one row per notice, and forgets dismissals of notices that left the feed', async () => {
    const { visitor, user } = await signUpByForm(t);
    const id = await accountId(user.username);
    await dismiss(visitor, '/', DELAY);
    const key = banners((await visitor.get('/')).body).get(GLOBAL)!;
    await visitor.post('/notices/dismiss', { key, next: '/' });
    await visitor.post('/notices/dismiss', { key, next: '/' }); // a double submit
    expect(await storedDismissals(id)).toBe(2);

    await putFeed(t, admin.token, feedWith([], { message: 'Something new.' }));
    await dismiss(visitor, '/', 'Something new.');
    expect(await storedDismissals(id)).toBe(1);
  });
});

describe('a visitor who is not signed in dismisses a notice', () => {
  it('is remembered by a cookie in that browser only', async () => {
    const visitor = new Visitor(t);
    const rows = await storedDismissals();
    const res = await dismiss(visitor, '/help', GLOBAL);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/help');
    const cookie = res.headers['set-cookie'];
    expect(String(cookie)).toMatch(/^verity_notices_dismissed=[0-9a-f]{16}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax/);
    expect([...banners((await visitor.get('/')).body).keys()]).toEqual([DELAY]);
    expect([...banners((await new Visitor(t).get('/')).body).keys()]).toEqual([GLOBAL, DELAY]);

    await dismiss(visitor, '/', DELAY);
    expect(banners((await visitor.get('/')).body).size).toBe(0);
    expect(await storedDismissals()).toBe(rows); // nothing stored for visitors
    expect((await visitor.get('/')).body).not.toContain('class="notices"');
  });
});

describe('refused dismissals', () => {
  it('need the CSRF token of the page, and change nothing without it', async () => {
    const { visitor, user } = await signUpByForm(t);
    const key = banners((await visitor.get('/')).body).get(DELAY)!;
    const forged = await t.app.inject({
      method: 'POST',
      url: '/notices/dismiss',
      headers: { cookie: visitor.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: encodeForm({ key, next: '/' }),
    });
    expect(forged.statusCode).toBe(403);
    expect(await storedDismissals(await accountId(user.username))).toBe(0);
    expect([...banners((await visitor.get('/')).body).keys()]).toEqual([GLOBAL, DELAY]);
  });

  it('answer 400 to a key that is not a notice key, storing nothing', async () => {
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/');
    for (const key of ['', 'nope', 'ABCDEF0123456789', '0123456789abcdef0', "'; drop table x"]) {
      const res = await visitor.post('/notices/dismiss', { key, next: '/' });
      expect(res.statusCode, key).toBe(400);
    }
    expect(await storedDismissals(await accountId(user.username))).toBe(0);
  });

  it('treat the key of a notice that has changed since as done: back to the page, nothing stored', async () => {
    const { visitor, user } = await signUpByForm(t);
    const key = banners((await visitor.get('/')).body).get(DELAY)!;
    await putFeed(t, admin.token, feed({ message: 'Codes arrive normally again.' }));
    const res = await visitor.post('/notices/dismiss', { key, next: '/' });
    expect(res.statusCode).toBe(303);
    expect(await storedDismissals(await accountId(user.username))).toBe(0);
  });

  it('never send the browser to another site', async () => {
    const visitor = new Visitor(t);
    const key = banners((await visitor.get('/')).body).get(GLOBAL)!;
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const res = await visitor.post('/notices/dismiss', { key, next });
      expect(res.headers.location, next).toBe('/');
    }
  });
});
