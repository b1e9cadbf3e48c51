import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, problem, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const TABLES = ['accounts', 'sessions', 'audit_events', 'outbox', 'staff_roles', 'service_keys'] as const;
async function counts(): Promise<Record<(typeof TABLES)[number], number>> {
  return Object.fromEntries(await Promise.all(TABLES.map(async (table) => [table, await countRows(t.db, table)] as const))) as Record<(typeof TABLES)[number], number>;
}

const SQL = ["'); DROP TABLE accounts;--", "' OR '1'='1", "admin'--", '"; DELETE FROM sessions; --', "x' UNION SELECT password_hash FROM accounts--"];
const SCRIPT = '<script>alert(1)</script>';

describe('SQL in strings', () => {
  it.each(SQL)('refuses the username %s with 400 and changes nothing', async (username) => {
    const before = await counts();
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), username }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(400);
    expect(problem(res).errors?.map((e) => e.path)).toContain('/username');
    expect(await counts()).toEqual(before);
  });

  it.each(SQL)('treats the login %s as an unknown login (401), and only the audit log grows', async (login) => {
    const member = await signUp(t);
    const before = await counts();
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password: "' OR '1'='1" }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('invalid_credentials');
    expect(await counts()).toEqual({ ...before, audit_events: before.audit_events + 1 });
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) })).statusCode).toBe(200);
  });

  it('stores SQL typed as a full name as plain text', async () => {
    const member = await signUp(t);
    const before = await counts();
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: auth(member.token), payload: { fullName: SQL[0] } });
    expect(res.statusCode).toBe(200);
    expect(res.json().fullName).toBe(SQL[0]);
    const row = await t.db.selectFrom('accounts').select('full_name').where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.full_name).toBe(SQL[0]);
    expect(await counts()).toEqual(before);
  });

  it.each(["'; DROP TABLE sessions;--", '1 OR 1=1', '../../etc/passwd'])('answers 404 for the session id %s and changes nothing', async (id) => {
    const member = await signUp(t);
    const before = await counts();
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${encodeURIComponent(id)}`, headers: auth(member.token) });
    expect(res.statusCode).toBe(404);
    expect(await counts()).toEqual(before);
  });

  it('grants nothing to a login made of SQL', async () => {
    const admin = await signUp(t);
    await t.app.verity.admin.prepareSetupToken(t.config.dataDir).then((token) =>
      t.app.inject({ method: 'POST', url: '/v1/admin/setup', headers: auth(admin.token), payload: { token } }),
    );
    const before = await counts();
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(admin.token), payload: { login: "' OR 1=1 --", role: 'admin' } });
    expect(res.statusCode).toBe(404);
    expect(await counts()).toEqual(before);
  });
});

describe('HTML in strings', () => {
  it('stores a script typed as a full name inertly, returns it as data and renders it escaped', async () => {
    const member = await signUp(t, { fullName: SCRIPT });
    const row = await t.db.selectFrom('accounts').select('full_name').where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.full_name).toBe(SCRIPT);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(me.headers['content-type']).toContain('application/json');
    expect(me.json().fullName).toBe(SCRIPT);

    const page = await t.app.inject({ method: 'GET', url: '/account', headers: auth(member.token) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).not.toContain(SCRIPT);
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it.each([
    [{ email: `${SCRIPT}@example.com` }, '/email'],
    [{ username: SCRIPT }, '/username'],
    [{ country: '<b' }, '/country'],
  ])('refuses markup in %j with 400 and stores nothing', async (change, path) => {
    const before = await counts();
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), ...change }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(400);
    expect(problem(res).errors?.map((e) => e.path)).toContain(path);
    expect(await counts()).toEqual(before);
  });

  it('never reflects markup from the URL into a problem or a page unescaped', async () => {
    const api = await t.app.inject({ method: 'GET', url: `/v1/${encodeURIComponent(SCRIPT)}` });
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-type']).toContain('application/problem+json');
    const page = await t.app.inject({ method: 'GET', url: `/nowhere?q=${encodeURIComponent(SCRIPT)}` });
    expect(page.statusCode).toBe(404);
    expect(page.body).not.toContain(SCRIPT);
  });

  it('keeps the input escaped when a sign-up form is re-rendered with an error', async () => {
    const csrfPage = await t.app.inject({ method: 'GET', url: '/signup' });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(csrfPage.body)?.[1];
    const cookie = csrfPage.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    expect(csrf).toBeTruthy();
    const form = new URLSearchParams({ _csrf: csrf!, email: 'x@example.com', username: `"><script>alert(1)</script>`, password: 'correct horse battery staple', country: 'PH', roles: 'freelancer' });
    const res = await t.app.inject({ method: 'POST', url: '/signup', payload: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('<script>alert(1)</script>');
    expect(res.body).toContain('&quot;&gt;&lt;script&gt;');
  });
});
