import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstAdmin } from '../admin/admin.js';
import { auth, countRows, createTestApp, problem, randomIp, signUp, uniqueUser, type SignedUp, type TestApp } from '../helpers/app.js';
import { phMobile, startPhone } from '../phone/helpers.js';
import { control, textOf, Visitor } from './form.js';

let t: TestApp;
let admin: SignedUp;
beforeAll(async () => {
  t = await createTestApp();
  admin = await firstAdmin(t);
});
afterAll(async () => {
  await t.close();
});

/** The API's message for a field, for the same value the page was sent. */
async function apiMessage(method: 'POST' | 'PUT', url: string, payload: Record<string, unknown>, field: string, token?: string): Promise<string | undefined> {
  const res = await t.app.inject({ method, url, payload, headers: token ? auth(token) : {}, remoteAddress: randomIp() });
  expect(res.statusCode).toBe(400);
  return problem(res).errors?.find((e) => e.path === `/${field}`)?.message;
}

async function as(who: SignedUp | null, page: string): Promise<Visitor> {
  const visitor = new Visitor(t);
  if (who) visitor.cookies.set('verity_session', who.token);
  expect((await visitor.get(page)).statusCode).toBe(200);
  return visitor;
}

describe('page forms refuse what the API refuses, with the same words, beside the field', () => {
  it('a 5,000-character login on /login: 400, the error beside the login, the input kept, no session', async () => {
    const login = 'a'.repeat(5000);
    const visitor = await as(null, '/login');
    const sessions = await countRows(t.db, 'sessions');
    const res = await visitor.post('/login', { login, password: 'whatever it is' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(textOf(res.body, 'f-login-error')).toBe('Use at most 320 characters.');
    expect(control(res.body, 'login')!['aria-invalid']).toBe('true');
    expect(control(res.body, 'login')!.value).toBe(login);
    expect(control(res.body, 'password')!.value).toBe('');
    expect(await countRows(t.db, 'sessions')).toBe(sessions);
    expect(await apiMessage('POST', '/v1/sessions', { login, password: 'whatever it is' }, 'login')).toBe('Use at most 320 characters.');
  });

  it('an empty login is asked for beside the field, as the API does', async () => {
    const visitor = await as(null, '/login');
    const res = await visitor.post('/login', { login: '', password: 'something' });
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-login-error')).toBe('This field is required.');
    expect(await apiMessage('POST', '/v1/sessions', { login: '', password: 'something' }, 'login')).toBe('This field is required.');
  });

  it('an over-long e-mail on /signup is the API limit, not the database', async () => {
    const visitor = await as(null, '/signup');
    const accounts = await countRows(t.db, 'accounts');
    const user = { ...uniqueUser('form'), email: `${'e'.repeat(5000)}@example.com` };
    const res = await visitor.post('/signup', user);
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-email-error')).toBe('Use at most 254 characters.');
    expect(await countRows(t.db, 'accounts')).toBe(accounts);
    expect(await apiMessage('POST', '/v1/accounts', user, 'email')).toBe('Use at most 254 characters.');
  });

  it('a phone code longer than any code, beside the code field', async () => {
    const member = await signUp(t);
    expect((await startPhone(t, member, { phone: phMobile() })).statusCode).toBe(202);
    const visitor = await as(member, '/account/phone');
    // Post, redirect, get: the refusal comes back on the page's own address.
    const res = await visitor.post('/account/phone/verify', { code: '1'.repeat(500) });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account/phone');
    const page = await visitor.get('/account/phone');
    expect(textOf(page.body, 'f-code-error')).toBe('Use at most 16 characters.');
  });

  it('two-step forms: an over-long security answer and an over-long app code, each beside its field', async () => {
    const member = await signUp(t);
    const visitor = await as(member, '/account/two-step/security-question');
    const answer = await visitor.post('/account/two-step/security-question', { question: 'first_pet', answer: 'a'.repeat(5000) });
    expect(answer.statusCode).toBe(400);
    expect(textOf(answer.body, 'f-answer-error')).toBe('Use at most 200 characters.');
    expect(control(answer.body, 'question')!.name).toBe('question');

    const setup = await visitor.post('/account/two-step/totp', {});
    const setupId = control(setup.body, 'setupId')!.value!;
    const code = await visitor.post('/account/two-step/totp/confirm', { setupId, code: '1'.repeat(500) });
    expect(code.statusCode).toBe(400);
    expect(textOf(code.body, 'f-code-error')).toBe('Use at most 16 characters.');
    expect(control(code.body, 'setupId')!.value).toBe(setupId); // the same setup, to try again
  });

  it('an over-long VoIP prefix or note on the admin page, beside the field, nothing stored', async () => {
    const visitor = await as(admin, '/admin/voip-ranges');
    const ranges = await t.db.selectFrom('phone_voip_ranges').select('id').execute();
    const res = await visitor.post('/admin/voip-ranges', { prefix: '+4478930', note: 'n'.repeat(5000) });
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-note-error')).toBe('Use at most 200 characters.');
    expect(control(res.body, 'prefix')!.value).toBe('+4478930');
    expect(await t.db.selectFrom('phone_voip_ranges').select('id').execute()).toHaveLength(ranges.length);
    expect(await apiMessage('POST', '/v1/admin/phone/voip-ranges', { prefix: '+4478930', note: 'n'.repeat(5000) }, 'note', admin.token)).toBe('Use at most 200 characters.');
  });

  it('an over-long article title on the admin page, beside the title', async () => {
    const visitor = await as(admin, '/admin/articles/new');
    const form = { slug: 'long-title', title: 't'.repeat(5000), summary: 'A summary.', body: 'A body.', keywords: '', related: '' };
    const res = await visitor.post('/admin/articles', form);
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-title-error')).toBe('Use at most 240 characters.');
    const api = await apiMessage('PUT', '/v1/admin/help/articles/long-title', { title: form.title, summary: form.summary, body: form.body }, 'title', admin.token);
    expect(api).toBe('Use at most 240 characters.');
  });

  it('an over-long recipient on the development outbox page, beside the filter', async () => {
    const res = await new Visitor(t).get(`/dev/outbox?to=${'x'.repeat(400)}`);
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-to-error')).toBe('Use at most 320 characters.');
  });
});

describe('the admin page', () => {
  it('refuses an unknown role instead of granting "agent": 400 beside the role, nothing granted', async () => {
    const member = await signUp(t);
    const visitor = await as(admin, '/admin');
    const before = await countRows(t.db, 'staff_roles');
    const res = await visitor.post('/admin/staff', { login: member.username, role: 'superuser' });
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-role-error')).toBe('Choose one of: agent, admin.');
    expect(control(res.body, 'role')!['aria-invalid']).toBe('true');
    expect(control(res.body, 'login')!.value).toBe(member.username);
    expect(await countRows(t.db, 'staff_roles')).toBe(before);
    expect(await apiMessage('POST', '/v1/admin/staff', { login: member.username, role: 'superuser' }, 'role', admin.token)).toBe('Choose one of: agent, admin.');
  });

  it('grants the role chosen, and keeps "admin" chosen when the login is refused', async () => {
    const member = await signUp(t);
    const visitor = await as(admin, '/admin');
    expect((await visitor.post('/admin/staff', { login: member.username, role: 'admin' })).statusCode).toBe(303);
    expect(await t.app.verity.admin.staffRoles(member.id)).toEqual(['admin']);
    const unknown = await visitor.post('/admin/staff', { login: 'nobody-at-all', role: 'admin' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('<option value="admin" selected>');
  });

  it('refuses a service key name over the limit beside the field', async () => {
    const visitor = await as(admin, '/admin');
    const before = await countRows(t.db, 'service_keys');
    const res = await visitor.post('/admin/service-keys', { name: 'k'.repeat(101) });
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-name-error')).toBe('Use at most 100 characters.');
    expect(await countRows(t.db, 'service_keys')).toBe(before);
  });

  it('is for admins only once an admin exists: an agent gets the 403 page, not the setup form', async () => {
    const agent = await signUp(t);
    await t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(admin.token), payload: { login: agent.username, role: 'agent' } });
    const visitor = new Visitor(t);
    visitor.cookies.set('verity_session', agent.token);
    const res = await visitor.get('/admin');
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toContain('Set up the first administrator');
  });
});
