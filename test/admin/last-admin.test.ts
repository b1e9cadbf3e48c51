import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auth, createTestApp, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { firstAdmin } from './admin.js';

/** The service always keeps an administrator: the last one can neither leave nor step down. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});
beforeEach(async () => {
  await t.db.deleteFrom('staff_roles').execute();
  await t.db.deleteFrom('admin_setup_tokens').execute();
});

function closeAccount(who: SignedUp) {
  return t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(who.token), payload: { password: who.password }, remoteAddress: randomIp() });
}

function grantAdmin(by: SignedUp, to: SignedUp) {
  return t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(by.token), payload: { login: to.username, role: 'admin' } });
}

function revokeAdmin(by: SignedUp, of: SignedUp) {
  return t.app.inject({ method: 'DELETE', url: `/v1/admin/staff/${of.id}/admin`, headers: auth(by.token) });
}

async function status(who: SignedUp): Promise<string> {
  const row = await t.db.selectFrom('accounts').select('status').where('id', '=', who.id).executeTakeFirstOrThrow();
  return row.status;
}

describe('the last administrator', () => {
  it('cannot close their account: 409 last_admin, and the account and its sessions stay', async () => {
    const admin = await firstAdmin(t);
    const res = await closeAccount(admin);
    expect(res.statusCode).toBe(409);
    expect(problem(res).code).toBe('last_admin');
    expect(problem(res).detail).toMatch(/another account an administrator/);
    expect(await status(admin)).toBe('active');
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(admin.token) })).statusCode).toBe(200);
  });

  it('can close once another admin exists; the one left is then the last', async () => {
    const admin = await firstAdmin(t);
    const second = await signUp(t);
    expect((await grantAdmin(admin, second)).statusCode).toBe(200);
    expect((await closeAccount(admin)).statusCode).toBe(200);
    expect(await status(admin)).toBe('closed');
    // A closed account's admin role does not count as an administrator.
    const res = await closeAccount(second);
    expect(res.statusCode).toBe(409);
    expect(problem(res).code).toBe('last_admin');
    const stepDown = await revokeAdmin(second, second);
    expect(stepDown.statusCode).toBe(409);
    expect(problem(stepDown).code).toBe('last_admin');
    expect(await status(second)).toBe('active');
  });

  it('two admins closing at the same moment: one closes, the other is refused', async () => {
    const admin = await firstAdmin(t);
    const second = await signUp(t);
    expect((await grantAdmin(admin, second)).statusCode).toBe(200);
    const results = await Promise.all([closeAccount(admin), closeAccount(second)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const active = [await status(admin), await status(second)].filter((s) => s === 'active');
    expect(active).toHaveLength(1);
  });

  it('an admin closing while the other steps down: the service keeps one admin', async () => {
    const admin = await firstAdmin(t);
    const second = await signUp(t);
    expect((await grantAdmin(admin, second)).statusCode).toBe(200);
    const [closed, stepped] = await Promise.all([closeAccount(admin), revokeAdmin(second, second)]);
    expect([closed.statusCode, stepped.statusCode].filter((s) => s === 409)).toHaveLength(1);
    const admins = await t.db
      .selectFrom('staff_roles')
      .innerJoin('accounts', 'accounts.id', 'staff_roles.account_id')
      .select('accounts.id')
      .where('staff_roles.role', '=', 'admin')
      .where('accounts.status', '<>', 'closed')
      .execute();
    expect(admins).toHaveLength(1);
  });

  it('a member who is not an admin closes as before', async () => {
    await firstAdmin(t);
    const member = await signUp(t);
    expect((await closeAccount(member)).statusCode).toBe(200);
  });
});
