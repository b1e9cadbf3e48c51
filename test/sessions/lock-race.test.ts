import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, type TestApp } from '../helpers/app.js';

// Parallel guesses against a real listening server: the lock must be a hard cap, because a
// failure is reserved before the password is compared, not counted after.
let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.close();
});

const PARALLEL = 60;
const LIMIT = 10;

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** How many passwords were compared and found wrong: one signin.failed row each. */
async function compared(accountId: string, reason: string): Promise<number> {
  const rows = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', accountId).where('event', '=', 'signin.failed').execute();
  return rows.filter((r) => r.details.reason === reason).length;
}

describe('parallel wrong guesses over HTTP', () => {
  it(`${PARALLEL} at once at POST /v1/sessions: at most ${LIMIT} are compared, and then the right password is refused`, async () => {
    const member = await signUp(t);
    const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => post('/v1/sessions', { login: member.username, password: `wrong guess ${i}` })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 423)).toHaveLength(PARALLEL - LIMIT);
    expect(await compared(member.id, 'wrong_password')).toBe(LIMIT);
    const right = await post('/v1/sessions', { login: member.username, password: member.password });
    expect(right.status).toBe(423);
    expect(right.body.code).toBe('account_locked');
    expect(right.body).not.toHaveProperty('session');
  });

  it(`${PARALLEL} at once at POST /v1/me/password: at most ${LIMIT} compared, then the right password is refused`, async () => {
    const member = await signUp(t);
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => post('/v1/me/password', { password: `wrong guess ${i}`, newPassword: 'a brand new long passphrase 42' }, member.token)),
    );
    expect(results.filter((r) => r.status === 401)).toHaveLength(LIMIT);
    expect(results.filter((r) => r.status === 423)).toHaveLength(PARALLEL - LIMIT);
    expect(await compared(member.id, 'wrong_password_confirm')).toBe(LIMIT);
    const right = await post('/v1/me/password', { password: member.password, newPassword: 'a brand new long passphrase 42' }, member.token);
    expect(right.status).toBe(423);
  });

  it(`${PARALLEL} at once at POST /v1/me/close: at most ${LIMIT} compared, and the account stays open`, async () => {
    const member = await signUp(t);
    const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => post('/v1/me/close', { password: `wrong guess ${i}` }, member.token)));
    expect(results.filter((r) => r.status === 401)).toHaveLength(LIMIT);
    expect(await compared(member.id, 'wrong_password_confirm')).toBe(LIMIT);
    expect((await post('/v1/me/close', { password: member.password }, member.token)).status).toBe(423);
    const account = await t.db.selectFrom('accounts').select('status').where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(account.status).toBe('active');
  });
});
