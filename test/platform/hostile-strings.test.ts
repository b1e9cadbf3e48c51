import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DB } from '../../src/platform/db/schema.js';
import { firstAdmin } from '../admin/admin.js';
import { auth, createTestApp, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { allRoutes, concrete } from '../helpers/routes.js';
import { encodeForm, Visitor } from '../pages/form.js';

let t: TestApp;
let admin: SignedUp;
let visitor: Visitor;
beforeAll(async () => {
  t = await createTestApp();
  admin = await firstAdmin(t);
  visitor = new Visitor(t);
  visitor.cookies.set('verity_session', admin.token);
  expect((await visitor.get('/account')).statusCode).toBe(200); // the admin's CSRF token for page forms
});
afterAll(async () => {
  await t.close();
});

const NUL = 'a\u0000b';
const SURROGATE = 'a\ud800b';
/** Field names the forms and the JSON API take; each gets the hostile value. */
const FIELDS = ['login', 'password', 'newPassword', 'email', 'username', 'fullName', 'country', 'name', 'token', 'role', 'prefix', 'note', 'title', 'summary', 'body', 'feed', 'code', 'phone', 'channel', 'helpful', 'slug', 'to', 'accountId', 'action'];

// Every table a request could write (rate-limit counters aside: they count requests).
const TABLES = ['accounts', 'sessions', 'one_time_tokens', 'outbox', 'dev_messages', 'audit_events', 'staff_roles', 'service_keys', 'admin_setup_tokens', 'help_articles', 'help_votes', 'notice_feed', 'phone_numbers', 'phone_verifications', 'phone_voip_ranges'] as const satisfies ReadonlyArray<keyof DB>;
async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

const isApi = (path: string) => path.startsWith('/v1/');

function send(method: string, path: string, options: { url?: string; body?: Record<string, unknown>; json?: string }) {
  const api = path.startsWith('/v1/');
  const form = !api || path === '/v1/webhooks/sms/twilio';
  const headers: Record<string, string> = api ? auth(admin.token) : { cookie: visitor.cookieHeader() };
  let payload: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = options.json;
  } else if (options.body) {
    headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
    const fields = api ? options.body : { _csrf: visitor.csrf, ...options.body };
    payload = form ? encodeForm(fields as Record<string, string>) : JSON.stringify(fields);
  }
  return t.app.inject({ method: method as 'GET', url: options.url ?? path, headers, payload, remoteAddress: randomIp() });
}

/** A 400 that names the hostile field: a problem document from the API, an error page from the pages. */
function expectRefused(res: LightMyRequestResponse, path: string, label: string, field: string) {
  expect(res.statusCode, label).toBe(400);
  if (isApi(path)) {
    expect(res.headers['content-type'], label).toMatch(/^application\/problem\+json/);
    const body = problem(res);
    expect(body.code, label).toBe('invalid_request');
    expect(body.errors?.map((e) => e.path), label).toContain(field);
    expect(body.errors?.find((e) => e.path === field)?.message, label).toMatch(/NUL character|lone UTF-16 surrogate/);
  } else {
    // /favicon.ico is registered before the app's error handler, so Fastify answers it in JSON.
    if (path !== '/favicon.ico') expect(res.headers['content-type'], label).toBe('text/html; charset=utf-8');
    expect(res.body, label).toMatch(/NUL character|lone UTF-16 surrogate/);
  }
}

describe('NUL bytes and lone surrogates, on every route', () => {
  const routes = () => allRoutes(t.app).filter(([, path]) => path !== '/openapi.json');

  it('finds the routes (the route table is read)', () => {
    const names = routes().map(([method, path]) => `${method} ${path}`);
    expect(names).toEqual(expect.arrayContaining(['POST /v1/sessions', 'POST /login', 'POST /v1/admin/staff', 'GET /v1/dev/outbox', 'POST /admin/notices', 'PUT /v1/admin/help/articles/:slug']));
    expect(names.length).toBeGreaterThan(50);
  });

  it('refuses a NUL or a lone surrogate in any body with 400 naming the field, changing nothing', async () => {
    const before = await counts();
    for (const [method, path] of routes().filter(([m]) => m !== 'GET')) {
      const url = concrete(path, (name) => (name === 'role' ? 'agent' : /id$/i.test(name) ? '00000000-0000-4000-8000-000000000000' : 'x'));
      const nul = await send(method, path, { url, body: Object.fromEntries(FIELDS.map((f) => [f, NUL])) });
      expectRefused(nul, path, `${method} ${path} (NUL)`, '/login');
      // A lone surrogate only survives JSON's \u escapes (UTF-8 form bodies cannot carry one).
      const csrf = isApi(path) ? '' : `"_csrf":${JSON.stringify(visitor.csrf)},`;
      const lone = await send(method, path, { url, json: `{${csrf}"login":"a\\ud800b","password":"x"}` });
      if (path !== '/v1/webhooks/sms/twilio') expectRefused(lone, path, `${method} ${path} (surrogate)`, '/login');
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses them in any path parameter and any query', async () => {
    const before = await counts();
    for (const [method, path] of routes()) {
      if (path.includes(':')) {
        const param = /:(\w+)/.exec(path)![1]!;
        const res = await send(method, path, { url: concrete(path, () => 'a%00b') });
        expectRefused(res, path, `${method} ${path} (param)`, `/params/${param}`);
      }
      const url = `${concrete(path, () => 'x')}?to=a%00b`;
      expectRefused(await send(method, path, { url }), path, `${method} ${path} (query)`, '/querystring/to');
    }
    expect(await counts()).toEqual(before);
  });
});

describe('the requests that answered 500', () => {
  it.each([
    ['POST /v1/sessions', 'POST', '/v1/sessions', { login: '\u0000', password: 'x' }, '/login'],
    ['POST /v1/sessions (surrogate)', 'POST', '/v1/sessions', { login: SURROGATE, password: 'x' }, '/login'],
    ['POST /v1/accounts', 'POST', '/v1/accounts', { email: 'a@example.com', username: 'nul-user', password: 'correct horse battery staple', country: 'PH', roles: ['freelancer'], fullName: NUL }, '/fullName'],
    ['POST /v1/admin/staff', 'POST', '/v1/admin/staff', { login: NUL, role: 'agent' }, '/login'],
    ['POST /v1/admin/service-keys', 'POST', '/v1/admin/service-keys', { name: NUL }, '/name'],
    ['POST /v1/admin/phone/voip-ranges', 'POST', '/v1/admin/phone/voip-ranges', { prefix: '+4478930', note: NUL }, '/note'],
    ['PUT /v1/admin/help/articles/x', 'PUT', '/v1/admin/help/articles/nul-article', { title: 'A title', summary: 'A summary of it.', body: `Some body ${NUL}` }, '/body'],
    ['PUT /v1/admin/notices/feed (in a key)', 'PUT', '/v1/admin/notices/feed', { global: { message: 'hi', icon: 'info', [NUL]: 1 }, responsive: [] }, '/global/?'],
  ] as const)('%s answers 400 invalid_request and stores nothing', async (_label, method, url, payload, field) => {
    const before = await counts();
    const res = await t.app.inject({ method, url, headers: auth(admin.token), payload, remoteAddress: randomIp() });
    expectRefused(res, url, url, field);
    expect(await counts()).toEqual(before);
  });

  it('GET /v1/dev/outbox?to=%00 answers 400, and so does the page', async () => {
    expectRefused(await t.app.inject({ method: 'GET', url: '/v1/dev/outbox?to=%00' }), '/v1/dev/outbox', 'api', '/querystring/to');
    expectRefused(await t.app.inject({ method: 'GET', url: '/dev/outbox?to=%00' }), '/dev/outbox', 'page', '/querystring/to');
  });

  it('refuses a NUL that only appears once a page parses what was typed (the notices JSON)', async () => {
    const before = await counts();
    const stored = (await t.app.inject({ method: 'GET', url: '/v1/notices/feed' })).body;
    await visitor.get('/admin/notices');
    const feed = JSON.stringify({ global: { message: NUL, icon: 'info' }, responsive: [] }); // the six characters \u0000
    expect(feed).toContain('\\u0000');
    const res = await visitor.post('/admin/notices', { feed });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('NUL character');
    expect(res.body).toContain('/global/message');
    expect(await counts()).toEqual(before);
    expect((await t.app.inject({ method: 'GET', url: '/v1/notices/feed' })).body).toBe(stored);
  });

  it('still accepts ordinary text around them: emoji (a surrogate pair) and accents', async () => {
    const member = await signUp(t, { fullName: 'Zoë 🙂 Reyes' });
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(me.json().fullName).toBe('Zoë 🙂 Reyes');
  });
});
