import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';
import { signUpByForm, Visitor } from '../pages/form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function cacheControl(res: LightMyRequestResponse): string | undefined {
  const value = res.headers['cache-control'];
  return Array.isArray(value) ? value.join(', ') : value;
}

describe('Cache-Control: no-store on everything that carries a token or personal data', () => {
  it("on the API: sign-up and sign-in (tokens), a member's data, their changes and refusals", async () => {
    const user = uniqueUser();
    const created = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: user, remoteAddress: randomIp() });
    expect(created.statusCode).toBe(201);
    const token = created.json().session.token as string;
    const responses: Record<string, LightMyRequestResponse> = {
      'POST /v1/accounts': created,
      'POST /v1/sessions': await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: user.username, password: user.password } }),
      'POST /v1/sessions (wrong password)': await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: user.username, password: 'not it at all' } }),
      'GET /v1/me': await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(token) }),
      'GET /v1/sessions': await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(token) }),
      'PATCH /v1/me': await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: auth(token), payload: { fullName: 'Ana' } }),
      'GET /v1/me/permissions': await t.app.inject({ method: 'GET', url: '/v1/me/permissions', headers: auth(token) }),
      'GET /v1/me (signed out)': await t.app.inject({ method: 'GET', url: '/v1/me' }),
      'GET /v1/dev/outbox': await t.app.inject({ method: 'GET', url: `/v1/dev/outbox?to=${encodeURIComponent(user.email)}` }),
    };
    expect(responses['POST /v1/sessions']!.statusCode).toBe(200);
    expect(responses['GET /v1/me']!.statusCode).toBe(200);
    for (const [route, res] of Object.entries(responses)) expect(cacheControl(res), route).toBe('no-store');
  });

  it('on pages: the sign-up and sign-in redirects that set the session cookie, and signed-in pages and redirects', async () => {
    const { visitor, user } = await signUpByForm(t);
    const responses: Record<string, LightMyRequestResponse> = {};
    const fresh = new Visitor(t);
    await fresh.get('/signup');
    const other = uniqueUser('store');
    responses['POST /signup'] = await fresh.post('/signup', { email: other.email, username: other.username, password: other.password, country: 'PH', roles: 'freelancer' });
    const signIn = new Visitor(t);
    await signIn.get('/login');
    responses['POST /login'] = await signIn.post('/login', { login: user.username, password: user.password });
    const wrong = new Visitor(t);
    await wrong.get('/login');
    responses['POST /login (wrong password)'] = await wrong.post('/login', { login: user.username, password: 'nope' });
    responses['GET /login (signed in: a redirect)'] = await visitor.get('/login');
    responses['GET /account'] = await visitor.get('/account');
    responses['POST /account'] = await visitor.post('/account', { fullName: 'Ana', country: 'PH', roles: 'freelancer' });
    responses['GET /account/security'] = await visitor.get('/account/security');
    responses['POST /logout'] = await visitor.post('/logout', {});
    expect(responses['POST /signup']!.statusCode).toBe(303);
    expect(responses['POST /login']!.statusCode).toBe(303);
    expect(responses['POST /login']!.headers['set-cookie']).toBeDefined();
    expect(responses['POST /login (wrong password)']!.statusCode).toBe(401);
    for (const [route, res] of Object.entries(responses)) expect(cacheControl(res), route).toBe('no-store');
  });

  it('leaves static files cacheable, even for a signed-in member', async () => {
    const member = await signUp(t);
    const res = await t.app.inject({ method: 'GET', url: '/static/style.css', headers: { cookie: `verity_session=${member.token}` } });
    expect(res.statusCode).toBe(200);
    expect(cacheControl(res)).toMatch(/max-age=\d+/);
    expect(cacheControl(res)).not.toContain('no-store');
  });
});
