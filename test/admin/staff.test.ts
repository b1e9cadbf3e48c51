import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, problem, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { firstAdmin } from './admin.js';

let t: TestApp;
let admin: SignedUp;
beforeAll(async () => {
  t = await createTestApp();
  admin = await firstAdmin(t);
});
afterAll(async () => {
  await t.close();
});

function grant(as: string, login: string, role: string) {
  return t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: { ...auth(as), 'user-agent': 'staff-test' }, payload: { login, role } });
}

function revoke(as: string, accountId: string, role: string) {
  return t.app.inject({ method: 'DELETE', url: `/v1/admin/staff/${accountId}/${role}`, headers: auth(as) });
}

async function rolesOf(accountId: string): Promise<string[]> {
  const rows = await t.db.selectFrom('staff_roles').select('role').where('account_id', '=', accountId).orderBy('role').execute();
  return rows.map((r) => r.role);
}

describe('granting staff roles', () => {
  it('gives an account the agent role by username, audited with the acting admin', async () => {
    const member = await signUp(t);
    const res = await grant(admin.token, member.username, 'agent');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accountId: member.id, role: 'agent' });
    expect(await rolesOf(member.id)).toEqual(['agent']);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(me.json().staffRoles).toEqual(['agent']);
    const audit = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'staff.granted').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_id: admin.id, user_agent: 'staff-test', details: { role: 'agent' } });
  });

  it('finds the account by e-mail too, whatever the case, and granting twice is harmless', async () => {
    const member = await signUp(t);
    expect((await grant(admin.token, member.email.toUpperCase(), 'admin')).statusCode).toBe(200);
    expect((await grant(admin.token, member.email, 'admin')).statusCode).toBe(200);
    expect(await rolesOf(member.id)).toEqual(['admin']);
  });

  it('answers 404 not_found for an unknown login', async () => {
    const before = await countRows(t.db, 'staff_roles');
    const res = await grant(admin.token, 'nobody-by-this-name', 'agent');
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
    expect(await countRows(t.db, 'staff_roles')).toBe(before);
  });

  it.each([['superuser'], ['Admin'], ['']])('refuses the role %j with 400', async (role) => {
    const member = await signUp(t);
    const res = await grant(admin.token, member.username, role);
    expect(res.statusCode).toBe(400);
    expect(await rolesOf(member.id)).toEqual([]);
  });

  it('is refused with 403 to members and agents, and 401 without a session', async () => {
    const member = await signUp(t);
    const agent = await signUp(t);
    await grant(admin.token, agent.username, 'agent');
    for (const token of [member.token, agent.token]) {
      const res = await grant(token, member.username, 'admin');
      expect(res.statusCode).toBe(403);
      expect(problem(res).code).toBe('forbidden');
    }
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/staff', payload: { login: member.username, role: 'admin' } })).statusCode).toBe(401);
    expect(await rolesOf(member.id)).toEqual([]);
  });
});

describe('revoking staff roles', () => {
  it('takes a role away, audited; the former agent loses access at once', async () => {
    const member = await signUp(t);
    await grant(admin.token, member.username, 'admin');
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/staff', headers: auth(member.token) })).statusCode).toBe(200);
    const res = await revoke(admin.token, member.id, 'admin');
    expect(res.statusCode).toBe(204);
    expect(await rolesOf(member.id)).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/staff', headers: auth(member.token) })).statusCode).toBe(403);
    const audit = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'staff.revoked').execute();
    expect(audit[0]).toMatchObject({ actor_id: admin.id, details: { role: 'admin' } });
  });

  it.each([
    ['a role the account does not hold', 'agent'],
    ['an unknown role', 'wizard'],
  ])('answers 404 for %s', async (_label, role) => {
    const member = await signUp(t);
    const res = await revoke(admin.token, member.id, role);
    expect(res.statusCode).toBe(404);
  });

  it('answers 404 for an unknown or malformed account id', async () => {
    expect((await revoke(admin.token, '00000000-0000-0000-0000-000000000000', 'agent')).statusCode).toBe(404);
    expect((await revoke(admin.token, 'not-a-uuid', 'agent')).statusCode).toBe(404);
  });

  it('is refused with 403 to non-admins', async () => {
    const agent = await signUp(t);
    await grant(admin.token, agent.username, 'agent');
    const res = await revoke(agent.token, admin.id, 'admin');
    expect(res.statusCode).toBe(403);
    expect(await rolesOf(admin.id)).toContain('admin');
  });

  it('never removes the last admin; with a second admin, the first can step down', async () => {
    // Start from one admin only.
    const admins = await t.db.selectFrom('staff_roles').select('account_id').where('role', '=', 'admin').execute();
    for (const row of admins) if (row.account_id !== admin.id) await revoke(admin.token, row.account_id, 'admin');

    const res = await revoke(admin.token, admin.id, 'admin');
    expect(res.statusCode).toBe(409);
    expect(problem(res).code).toBe('last_admin');
    expect(problem(res).detail).toMatch(/last administrator/i);
    expect(await rolesOf(admin.id)).toEqual(['admin']);

    const second = await signUp(t);
    await grant(admin.token, second.username, 'admin');
    expect((await revoke(second.token, admin.id, 'admin')).statusCode).toBe(204);
    expect((await revoke(second.token, second.id, 'admin')).statusCode).toBe(409);
    // Hand the role back so later tests keep their admin.
    await grant(second.token, admin.username, 'admin');
  });

  it('lets only one of two admins removing each other at once succeed', async () => {
    const admins = await t.db.selectFrom('staff_roles').select('account_id').where('role', '=', 'admin').execute();
    for (const row of admins) if (row.account_id !== admin.id) await revoke(admin.token, row.account_id, 'admin');
    const other = await signUp(t);
    await grant(admin.token, other.username, 'admin');
    const results = await Promise.all([revoke(admin.token, other.id, 'admin'), revoke(other.token, admin.id, 'admin')]);
    // The loser is either no longer an admin when its request is checked (403) or is
    // refused by the statement itself as the last one left (409 last_admin).
    expect([[204, 403], [204, 409]]).toContainEqual(results.map((r) => r.statusCode).sort());
    const left = await t.db.selectFrom('staff_roles').select('account_id').where('role', '=', 'admin').execute();
    expect(left).toHaveLength(1);
    if (left[0]!.account_id !== admin.id) {
      await grant(other.token, admin.username, 'admin');
      await revoke(admin.token, other.id, 'admin');
    }
  });
});
