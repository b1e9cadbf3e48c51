import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../src/platform/errors.js';
import { auth, countRows, createTestApp, problem, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const TABLES = ['accounts', 'sessions', 'audit_events', 'outbox'] as const;
async function counts() {
  return Promise.all(TABLES.map((table) => countRows(t.db, table)));
}

/** An RFC 9457 problem document with the contract's fields, its status matching the response. */
function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = problem(res);
  expect(body).toMatchObject({ status, code });
  for (const field of ['type', 'title', 'detail'] as const) {
    expect(typeof body[field]).toBe('string');
    expect(body[field].length).toBeGreaterThan(0);
  }
  return body;
}

function post(url: string, payload: string | Buffer, contentType?: string) {
  return t.app.inject({ method: 'POST', url, payload, headers: contentType ? { 'content-type': contentType } : {}, remoteAddress: randomIp() });
}

describe('request bodies on /v1', () => {
  it.each([
    ['a truncated object', '{"email": "a@example.com", '],
    ['a trailing comma', '{"login": "x", "password": "y",}'],
    ['single quotes', "{'login': 'x'}"],
    ['a bare word', 'hello'],
    ['a prototype-pollution key', '{"login":"x","password":"y","__proto__":{"admin":true}}'],
  ])('answers malformed JSON (%s) with 400 invalid_request', async (_label, body) => {
    const before = await counts();
    const body400 = expectProblem(await post('/v1/accounts', body, 'application/json'), 400, 'invalid_request');
    expect(Array.isArray(body400.errors)).toBe(true);
    expect(await counts()).toEqual(before);
  });

  it('answers fields sent to a request that takes no body with 400, and sends nothing', async () => {
    const member = await signUp(t);
    const sentBefore = await countRows(t.db, 'outbox');
    const res = await t.app.inject({ method: 'POST', url: '/v1/me/email-verification', headers: auth(member.token), payload: { to: 'attacker@example.com' } });
    const body = expectProblem(res, 400, 'invalid_request');
    expect(body.errors?.map((e) => e.path)).toEqual(['/']);
    expect(await countRows(t.db, 'outbox')).toBe(sentBefore);
    // No body, or an empty object, is still fine.
    expect((await t.app.inject({ method: 'POST', url: '/v1/me/email-verification', headers: auth(member.token) })).statusCode).toBe(202);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth(member.token), payload: {} })).statusCode).toBe(204);
  });

  it('answers an empty JSON body with 400', async () => {
    expectProblem(await post('/v1/sessions', '', 'application/json'), 400, 'invalid_request');
  });

  it('answers unknown fields with 400 naming each one', async () => {
    const before = await counts();
    const res = await post('/v1/accounts', JSON.stringify({ ...uniqueUser(), isAdmin: true, status: 'active' }), 'application/json');
    const body = expectProblem(res, 400, 'invalid_request');
    expect(body.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(['/isAdmin', '/status']));
    expect(await counts()).toEqual(before);
  });

  it.each([
    [{ roles: 'freelancer' }, '/roles'],
    [{ password: 1234567890123 }, '/password'],
    [{ email: null }, '/email'],
    [{ country: ['P', 'H'] }, '/country'],
    [{ fullName: { first: 'A' } }, '/fullName'],
    [{ roles: [true] }, '/roles/0'],
  ])('answers a wrong type %j with 400 naming the field', async (change, path) => {
    const before = await counts();
    const res = await post('/v1/accounts', JSON.stringify({ ...uniqueUser(), ...change }), 'application/json');
    const body = expectProblem(res, 400, 'invalid_request');
    expect(body.errors?.map((e) => e.path)).toContain(path);
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"login"'],
    ['null', 'null'],
  ])('answers %s instead of an object with 400', async (_label, body) => {
    expectProblem(await post('/v1/sessions', body, 'application/json'), 400, 'invalid_request');
  });

  it('answers a body over 1 MiB with 413 payload_too_large', async () => {
    const before = await counts();
    const big = JSON.stringify({ ...uniqueUser(), fullName: 'x'.repeat(1024 * 1024) });
    expectProblem(await post('/v1/accounts', big, 'application/json'), 413, 'payload_too_large');
    expect(await counts()).toEqual(before);
  });

  it('accepts a body just under 1 MiB far enough to validate it (400, not 413)', async () => {
    const body = JSON.stringify({ ...uniqueUser(), fullName: 'x'.repeat(1024 * 1024 - 300) });
    expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
    expect((await post('/v1/accounts', body, 'application/json')).statusCode).toBe(400);
  });

  it.each([
    ['text/plain'],
    ['application/x-www-form-urlencoded'],
    ['multipart/form-data; boundary=xyz'],
    ['application/xml'],
    ['text/html'],
  ])('answers Content-Type %s with 415 unsupported_media_type and stores nothing', async (type) => {
    const before = await counts();
    const payload = type.includes('urlencoded') ? 'email=a%40example.com&username=abc' : JSON.stringify(uniqueUser());
    expectProblem(await post('/v1/accounts', payload, type), 415, 'unsupported_media_type');
    expectProblem(await post('/v1/sessions', payload, type), 415, 'unsupported_media_type');
    expect(await counts()).toEqual(before);
  });

  it('answers a body without a Content-Type with 415', async () => {
    expectProblem(await post('/v1/sessions', JSON.stringify({ login: 'a', password: 'b' })), 415, 'unsupported_media_type');
  });

  it('accepts application/json with a charset', async () => {
    const res = await post('/v1/accounts', JSON.stringify(uniqueUser()), 'application/json; charset=utf-8');
    expect(res.statusCode).toBe(201);
  });
});

describe('routes and methods', () => {
  it.each([
    ['GET', '/v1/no-such-thing'],
    ['POST', '/v1/nothing/here'],
    ['PUT', '/v1/accounts'],
    ['GET', '/v1/'],
  ] as const)('answers %s %s with a 404 problem', async (method, url) => {
    const body = expectProblem(await t.app.inject({ method, url }), 404, 'not_found');
    expect(body.detail).not.toMatch(/<|>/);
  });

  it('answers 401 problems for protected routes without a session', async () => {
    for (const [method, url] of [['GET', '/v1/me'], ['GET', '/v1/sessions'], ['DELETE', '/v1/sessions'], ['POST', '/v1/admin/staff']] as const) {
      expectProblem(await t.app.inject({ method, url, ...(method === 'POST' ? { payload: { login: 'x', role: 'agent' } } : {}) }), 401, 'unauthenticated');
    }
  });

  it('answers 403 problems for staff routes to members', async () => {
    const member = await signUp(t);
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/admin/staff', headers: auth(member.token) }), 403, 'forbidden');
  });

  it('answers 429 with Retry-After in the header and the body', async () => {
    const ip = randomIp();
    let res: LightMyRequestResponse | undefined;
    for (let i = 0; i < 11; i++) res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), password: 'x' }, remoteAddress: ip });
    const body = expectProblem(res!, 429, 'rate_limited');
    expect(Number(res!.headers['retry-after'])).toBeGreaterThan(0);
    expect(body.retryAfter).toBe(Number(res!.headers['retry-after']));
  });
});

describe('server errors', () => {
  it('answers a 5xx with a bare problem: no stack, no SQL, no internals', async () => {
    const broken = await createTestApp();
    const member = await signUp(broken);
    await broken.database.close();
    const responses = [
      await broken.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) }),
      await broken.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password } }),
      await broken.app.inject({ method: 'POST', url: '/v1/accounts', payload: uniqueUser() }),
    ];
    for (const res of responses) {
      const body = expectProblem(res, 500, 'internal_error');
      expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
      expect(body.detail).toBe(catalogue.internal_error[2]);
      expect(res.body).not.toMatch(/select|insert|from "|stack|\bat \w|\.ts:|\.js:|node_modules|pglite|postgres|kysely|sqlstate/i);
      expect(res.body).not.toMatch(/[A-Z]\w*Error\b|Error:/);
    }
    await broken.app.verity.outbox.stop();
    await broken.app.close();
  });
});
