import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let doc: {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, unknown>; security?: unknown[] }>>;
  components?: { securitySchemes?: Record<string, unknown> };
};
beforeAll(async () => {
  t = await createTestApp();
  const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toContain('application/json');
  doc = res.json();
});
afterAll(async () => {
  await t.close();
});

// The API.md routes the foundation implements, by path and method.
const CONTRACT: Array<[string, string]> = [
  ['/v1/accounts', 'post'],
  ['/v1/accounts/email-verification', 'post'],
  ['/v1/me', 'get'],
  ['/v1/me', 'patch'],
  ['/v1/me/close', 'post'],
  ['/v1/sessions', 'post'],
  ['/v1/sessions', 'get'],
  ['/v1/sessions', 'delete'],
  ['/v1/sessions/current', 'delete'],
  ['/v1/sessions/{id}', 'delete'],
  ['/v1/admin/setup', 'post'],
  ['/v1/admin/staff', 'post'],
  ['/v1/admin/staff/{accountId}/{role}', 'delete'],
  ['/v1/admin/service-keys', 'post'],
  ['/v1/admin/service-keys/{id}', 'delete'],
];

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document about Verity', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.title).toMatch(/Verity/);
    expect(doc.components?.securitySchemes).toHaveProperty('session');
  });

  it.each(CONTRACT)('documents %s %s', (path, method) => {
    expect(doc.paths[path], `${path} missing`).toBeDefined();
    expect(doc.paths[path]![method], `${method} ${path} missing`).toBeDefined();
  });

  it('is generated from the route schemas: bodies with their fields, required lists and no extras', () => {
    const signUp = doc.paths['/v1/accounts']!.post!.requestBody!.content['application/json']!.schema as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(signUp.properties)).toEqual(expect.arrayContaining(['email', 'username', 'password', 'country', 'roles', 'fullName']));
    expect(signUp.required).toEqual(expect.arrayContaining(['email', 'username', 'password', 'country', 'roles']));
    expect(signUp.required).not.toContain('fullName');
    expect(signUp.additionalProperties).toBe(false);
    const signIn = doc.paths['/v1/sessions']!.post!.requestBody!.content['application/json']!.schema as { required: string[] };
    expect(signIn.required.sort()).toEqual(['login', 'password']);
  });

  it('lists the success and problem responses the contract names', () => {
    const signUpResponses = Object.keys(doc.paths['/v1/accounts']!.post!.responses);
    expect(signUpResponses).toEqual(expect.arrayContaining(['201', '400', '409', '422', '429']));
    const signInResponses = Object.keys(doc.paths['/v1/sessions']!.post!.responses);
    expect(signInResponses).toEqual(expect.arrayContaining(['200', '401', '423', '429']));
    expect(Object.keys(doc.paths['/v1/admin/setup']!.post!.responses)).toContain('410');
    expect(Object.keys(doc.paths['/v1/admin/staff']!.post!.responses)).toContain('404');
    expect(Object.keys(doc.paths['/v1/admin/service-keys']!.post!.responses)).toContain('201');
    expect(Object.keys(doc.paths['/v1/sessions/{id}']!.delete!.responses)).toContain('204');
  });

  it('marks routes that need a session', () => {
    expect(doc.paths['/v1/me']!.get!.security).toEqual([{ session: [] }]);
    expect(doc.paths['/v1/accounts']!.post!.security).toBeUndefined();
  });

  it('describes the JSON API only: no HTML page is in it', () => {
    const others = Object.keys(doc.paths).filter((path) => !path.startsWith('/v1/'));
    expect(others).toEqual([]);
  });

  it('describes real routes only: each documented /v1 operation is one the server answers', () => {
    const operations = Object.entries(doc.paths).filter(([path]) => path.startsWith('/v1/'));
    expect(operations.length).toBeGreaterThanOrEqual(CONTRACT.length);
    for (const [path, methods] of operations) {
      for (const method of Object.keys(methods)) {
        const url = path.replace(/\{(\w+)\}/g, ':$1');
        expect(t.app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${path}`).toBe(true);
      }
    }
  });
});

describe('GET /docs', () => {
  it('renders the document as an HTML page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toMatch(/swagger-ui/i);
  });

  it('serves its scripts and the document it renders', async () => {
    const init = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    const json = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(json.json().openapi).toMatch(/^3\.1\./);
  });
});
