import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, signUp, type TestApp } from '../helpers/app.js';
import { firstAdmin } from '../admin/admin.js';
import { Visitor } from './form.js';
import { routesFor } from '../helpers/routes.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** A path with its parameters filled in: well-formed ids that exist nowhere. */
function concrete(path: string): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => (name === 'role' ? 'agent' : /id$/i.test(name) ? '00000000-0000-4000-8000-000000000000' : 'x'));
}

const formRoutes = () =>
  (['POST', 'PUT', 'PATCH', 'DELETE'] as const).flatMap((method) =>
    routesFor(t.app, method)
      .filter((path) => !path.startsWith('/v1/') && !path.startsWith('/docs') && !path.startsWith('/static'))
      .map((path) => [method, path] as const),
  );

describe('CSRF on every page that changes something', () => {
  it('finds the form routes (the route list is read correctly)', () => {
    const paths = formRoutes().map(([method, path]) => `${method} ${path}`);
    expect(paths).toEqual(expect.arrayContaining(['POST /signup', 'POST /login', 'POST /logout', 'POST /account', 'POST /account/close', 'POST /admin/staff/:accountId/:role/remove']));
    // The JSON API is not among them: it is JSON-only instead.
    expect(routesFor(t.app, 'POST')).toContain('/v1/accounts');
    expect(paths.some((p) => p.includes('/v1/'))).toBe(false);
  });

  it('refuses every one of them without a CSRF token, even for a signed-in admin, changing nothing', async () => {
    const admin = await firstAdmin(t);
    const visitor = new Visitor(t);
    visitor.cookies.set('verity_session', admin.token);
    expect((await visitor.get('/account')).statusCode).toBe(200); // the CSRF cookie is set now
    const tables = ['accounts', 'sessions', 'audit_events', 'outbox', 'staff_roles', 'service_keys'] as const;
    const counts = async () => Promise.all(tables.map((table) => countRows(t.db, table)));
    const before = await counts();

    const routes = formRoutes();
    expect(routes.length).toBeGreaterThan(15);
    for (const [method, path] of routes) {
      const res = await t.app.inject({
        method,
        url: concrete(path),
        headers: { cookie: visitor.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'login=x&password=y&name=k&role=admin',
        remoteAddress: visitor.ip,
      });
      expect(res.statusCode, `${method} ${path}`).toBe(403);
      expect(res.body, `${method} ${path}`).toContain('Form expired');
    }
    expect(await counts()).toEqual(before);

    // Control: the same visitor with the page's token gets through (so the refusals above
    // were the CSRF check, not a missing permission).
    const granted = await visitor.post('/admin/service-keys', { name: 'control key' });
    expect(granted.statusCode).toBe(201);
    expect(await countRows(t.db, 'service_keys')).toBe(before[5]! + 1);
  });
});

describe('a repeated form post', () => {
  it('treats ending a session that is gone already as done (303), not as an error', async () => {
    const member = await signUp(t);
    const visitor = new Visitor(t);
    visitor.cookies.set('verity_session', member.token);
    await visitor.get('/account/security');
    const res = await visitor.post('/account/security/sessions/00000000-0000-4000-8000-000000000000/revoke', {});
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/security');
  });
});

describe('pages when the database fails', () => {
  it('answer a plain 500 page that names no database, query or stack', async () => {
    const broken = await createTestApp();
    const member = await signUp(broken);
    const visitor = new Visitor(broken);
    visitor.cookies.set('verity_session', member.token);
    expect((await visitor.get('/account')).statusCode).toBe(200);
    await broken.database.close();
    try {
      const responses = [await visitor.get('/account'), await visitor.get('/'), await visitor.post('/login', { login: member.username, password: member.password })];
      for (const res of responses) {
        expect(res.statusCode).toBe(500);
        expect(res.body).toContain('Something went wrong on our side');
        expect(res.body).not.toMatch(/select|insert|from "|stack|\bat \w|\.ts:|\.js:|node_modules|pglite|postgres|kysely|sqlstate|[A-Z]\w*Error\b/i);
      }
      // The API answers the same failure as a bare problem document.
      const api = await broken.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
      expect(api.statusCode).toBe(500);
      expect(api.json()).toMatchObject({ code: 'internal_error' });
    } finally {
      await broken.app.verity.outbox.stop();
      await broken.app.close();
    }
  });
});
