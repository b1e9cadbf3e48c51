import { createHash } from 'node:crypto';
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

function create(as: string, name: string) {
  return t.app.inject({ method: 'POST', url: '/v1/admin/service-keys', headers: auth(as), payload: { name } });
}

function remove(as: string, id: string) {
  return t.app.inject({ method: 'DELETE', url: `/v1/admin/service-keys/${id}`, headers: auth(as) });
}

describe('service keys', () => {
  it('creates a key shown once; the database keeps only its SHA-256', async () => {
    const res = await create(admin.token, 'payments');
    expect(res.statusCode).toBe(201);
    const { id, name, key } = res.json();
    expect(name).toBe('payments');
    expect(key).toMatch(/^vk_[A-Za-z0-9_-]{43}$/);
    const row = await t.db.selectFrom('service_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(row.created_by).toBe(admin.id);
    expect(JSON.stringify(await t.db.selectFrom('service_keys').selectAll().execute())).not.toContain(key);
    expect(JSON.stringify(await t.db.selectFrom('audit_events').selectAll().execute())).not.toContain(key);
    // A staff action: audited with the acting admin, the key's id and name (never the key).
    const audit = await t.db.selectFrom('audit_events').selectAll().where('event', '=', 'service_key.created').execute();
    expect(audit.filter((a) => (a.details as { keyId?: string }).keyId === id)).toMatchObject([{ actor_id: admin.id, details: { keyId: id, name: 'payments' } }]);
    // Listing never shows the key again.
    const list = await t.app.inject({ method: 'GET', url: '/v1/admin/service-keys', headers: auth(admin.token) });
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(id);
    expect(list.body).not.toContain(key);
  });

  it('authenticates with the key until it is revoked, then never again', async () => {
    const { id, key } = (await create(admin.token, 'jobs')).json();
    expect(await t.app.verity.admin.authenticateServiceKey(key)).toEqual({ id, name: 'jobs' });
    const res = await remove(admin.token, id);
    expect(res.statusCode).toBe(204);
    expect(await t.app.verity.admin.authenticateServiceKey(key)).toBeNull();
    const audit = await t.db.selectFrom('audit_events').select('details').where('event', '=', 'service_key.revoked').execute();
    expect(audit.map((a) => a.details)).toContainEqual({ keyId: id });
    // A second revoke finds nothing live.
    expect((await remove(admin.token, id)).statusCode).toBe(404);
  });

  it('revoking one key leaves the others working', async () => {
    const a = (await create(admin.token, 'a')).json();
    const b = (await create(admin.token, 'b')).json();
    await remove(admin.token, a.id);
    expect(await t.app.verity.admin.authenticateServiceKey(b.key)).toEqual({ id: b.id, name: 'b' });
  });

  it.each([
    ['a near miss', (k: string) => k.slice(0, -1) + (k.endsWith('A') ? 'B' : 'A')],
    ['no prefix', (k: string) => k.slice(3)],
    ['a session token instead', () => admin.token],
    ['an empty string', () => ''],
  ])('refuses %s', async (_label, mangle) => {
    const { key } = (await create(admin.token, 'probe')).json();
    expect(await t.app.verity.admin.authenticateServiceKey(mangle(key))).toBeNull();
  });

  it.each(['not-a-uuid', '00000000-0000-0000-0000-000000000000'])('answers 404 when revoking %s', async (id) => {
    const res = await remove(admin.token, id);
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
  });

  it('refuses a missing, empty or blank name with 400 and stores nothing', async () => {
    const before = await countRows(t.db, 'service_keys');
    for (const payload of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(101) }, { name: 'ok', scope: 'all' }]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/admin/service-keys', headers: auth(admin.token), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(problem(res).code).toBe('invalid_request');
    }
    expect(await countRows(t.db, 'service_keys')).toBe(before);
  });

  it('is for admins only: 403 for members and agents, 401 without a session', async () => {
    const member = await signUp(t);
    const agent = await signUp(t);
    await t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(admin.token), payload: { login: agent.username, role: 'agent' } });
    const { id, key } = (await create(admin.token, 'guarded')).json();
    const before = await countRows(t.db, 'service_keys');
    for (const token of [member.token, agent.token]) {
      expect((await create(token, 'sneaky')).statusCode).toBe(403);
      expect((await remove(token, id)).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'GET', url: '/v1/admin/service-keys', headers: auth(token) })).statusCode).toBe(403);
    }
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/service-keys', payload: { name: 'anon' } })).statusCode).toBe(401);
    expect(await countRows(t.db, 'service_keys')).toBe(before);
    expect(await t.app.verity.admin.authenticateServiceKey(key)).not.toBeNull();
  });
});
