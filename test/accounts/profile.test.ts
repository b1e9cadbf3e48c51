import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, problem, signUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function auditEvents(accountId: string, event: string) {
  return t.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).where('event', '=', event).execute();
}

describe('GET /v1/me', () => {
  it('shows the signed-in account with the fields the contract names', async () => {
    const member = await signUp(t, { roles: ['client', 'agency'], country: 'US' });
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(res.statusCode).toBe(200);
    const me = res.json();
    expect(me).toMatchObject({
      id: member.id,
      email: member.email,
      emailVerified: false,
      username: member.username,
      roles: ['client', 'agency'],
      country: 'US',
      phone: null,
      twoStep: { enabled: false, methods: [] },
      status: 'active',
    });
    expect(me).not.toHaveProperty('password_hash');
    expect(JSON.stringify(me)).not.toContain('argon2');
  });

  it.each([
    ['no credentials', {}],
    ['an unknown token', auth('A'.repeat(43))],
    ['a malformed header', { authorization: 'Basic dXNlcjpwYXNz' }],
  ])('answers 401 unauthenticated with %s', async (_label, headers) => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(problem(res).code).toBe('unauthenticated');
  });
});

describe('PATCH /v1/me', () => {
  it('changes roles, name and country, and the change is what GET /v1/me shows', async () => {
    const member = await signUp(t);
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: auth(member.token),
      payload: { roles: ['client', 'freelancer'], fullName: '  Ana Reyes  ', country: 'us' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ roles: ['client', 'freelancer'], fullName: 'Ana Reyes', country: 'US' });
    const me = (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) })).json();
    expect(me).toMatchObject({ roles: ['client', 'freelancer'], fullName: 'Ana Reyes', country: 'US' });
  });

  it('changes only the fields sent', async () => {
    const member = await signUp(t, { roles: ['agency'], country: 'PH', fullName: 'Kept Name' });
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: auth(member.token), payload: { country: 'GB' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ roles: ['agency'], country: 'GB', fullName: 'Kept Name' });
  });

  it('clears the name when an empty one is sent', async () => {
    const member = await signUp(t, { fullName: 'Someone' });
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: auth(member.token), payload: { fullName: '' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().fullName).toBeNull();
  });

  it('records a role change in the audit log, with the before and after', async () => {
    const member = await signUp(t, { roles: ['freelancer'] });
    await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: { ...auth(member.token), 'user-agent': 'profile-test' }, payload: { roles: ['client'] } });
    const rows = await auditEvents(member.id, 'account.roles_changed');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toEqual({ from: ['freelancer'], to: ['client'] });
    expect(rows[0]!.user_agent).toBe('profile-test');
    // Sending the same roles again is not a change.
    await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: auth(member.token), payload: { roles: ['client'] } });
    expect(await auditEvents(member.id, 'account.roles_changed')).toHaveLength(1);
  });

  it.each([
    [{ roles: [] }, '/roles'],
    [{ roles: ['admin'] }, '/roles/0'],
    [{ roles: 'client' }, '/roles'],
    [{ country: 'XX' }, '/country'],
    [{ country: 'USA' }, '/country'],
    [{ country: 7 }, '/country'],
    [{ fullName: 'a'.repeat(101) }, '/fullName'],
    [{ fullName: 'tab\u0007bell' }, '/fullName'],
    [{ email: 'new@example.com' }, '/email'],
    [{ username: 'renamed' }, '/username'],
    [{ status: 'active' }, '/status'],
  ])('refuses %j with 400 naming the field, and changes nothing', async (change, path) => {
    const member = await signUp(t, { roles: ['freelancer'], country: 'PH', fullName: 'Unchanged' });
    const before = await t.db.selectFrom('accounts').selectAll().where('id', '=', member.id).executeTakeFirstOrThrow();
    const audits = await countRows(t.db, 'audit_events');
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: auth(member.token), payload: change });
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('invalid_request');
    expect(problem(res).errors?.map((e) => e.path)).toContain(path);
    const after = await t.db.selectFrom('accounts').selectAll().where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(after).toEqual(before);
    expect(await countRows(t.db, 'audit_events')).toBe(audits);
  });

  it('cannot change another account: the body has no id and the token decides', async () => {
    const a = await signUp(t, { country: 'PH' });
    const b = await signUp(t, { country: 'PH' });
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: auth(a.token), payload: { id: b.id, country: 'US' } });
    expect(res.statusCode).toBe(400);
    const rowB = await t.db.selectFrom('accounts').select('country').where('id', '=', b.id).executeTakeFirstOrThrow();
    expect(rowB.country).toBe('PH');
  });

  it('needs a session', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/me', payload: { country: 'US' } });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('unauthenticated');
  });
});
