import { createHash } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, problem, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function signIn(login: string, password: string, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, headers, remoteAddress: randomIp() });
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('POST /v1/sessions', () => {
  it.each(['username', 'e-mail'])('signs in by %s, whatever its case', async (kind) => {
    const member = await signUp(t);
    const login = kind === 'username' ? member.username.toUpperCase() : `  ${member.email.toUpperCase()}  `;
    const res = await signIn(login, member.password);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('authenticated');
    expect(body.account).toMatchObject({ id: member.id, username: member.username });
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(body.session.token) });
    expect(me.json().id).toBe(member.id);
  });

  it('issues a 256-bit token that the database holds only as its SHA-256', async () => {
    const member = await signUp(t);
    const res = await signIn(member.username, member.password);
    const token: string = res.json().session.token;
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const rows = await t.db.selectFrom('sessions').selectAll().where('account_id', '=', member.id).execute();
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.token_hash)).toContain(sha256(token));
    expect(rows.map((r) => r.token_hash)).toContain(sha256(member.token));
    // Nowhere in any session row, nor in the audit log, is a plaintext token.
    const everything = JSON.stringify(await t.db.selectFrom('sessions').selectAll().execute()) + JSON.stringify(await t.db.selectFrom('audit_events').selectAll().execute());
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(member.token);
  });

  it('gives two sign-ins two different tokens', async () => {
    const member = await signUp(t);
    const a = (await signIn(member.username, member.password)).json().session.token;
    const b = (await signIn(member.username, member.password)).json().session.token;
    expect(a).not.toBe(b);
  });

  it('answers with the session expiry, 30 days ahead by default', async () => {
    const member = await signUp(t);
    const res = await signIn(member.email, member.password);
    expect(res.json().session.expiresAt).toBe(new Date(t.clock.now().getTime() + 30 * 86400_000).toISOString());
  });

  it('records the device: IP and user agent, shown in the sessions list', async () => {
    const member = await signUp(t);
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, headers: { 'user-agent': 'Phone/1.0' }, remoteAddress: '10.1.2.3' });
    const token = res.json().session.token;
    const list = (await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(token) })).json() as Array<Record<string, unknown>>;
    expect(list.find((s) => s.current)).toMatchObject({ ip: '10.1.2.3', userAgent: 'Phone/1.0' });
  });

  it.each([
    [{ login: 'someone' }, '/password'],
    [{ password: 'something long' }, '/login'],
    [{ login: '', password: 'x' }, '/login'],
    [{ login: 'someone', password: 'x', remember: true }, '/remember'],
    [{ login: ['a'], password: 'x' }, '/login'],
  ])('refuses a malformed body %j with 400', async (payload, path) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(400);
    expect(problem(res).errors?.map((e) => e.path)).toContain(path);
  });
});

describe('password hashing', () => {
  it('stores argon2id with m=19456, t=2, p=1', async () => {
    const member = await signUp(t);
    const row = await t.db.selectFrom('accounts').select('password_hash').where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it.each([
    ['argon2id with less memory and time', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 }],
    ['argon2i', { algorithm: 1, memoryCost: 19456, timeCost: 2, parallelism: 1 }],
  ])('upgrades a stored %s hash at the next sign-in, and audits it once', async (_label, params) => {
    const user = uniqueUser('legacy');
    const weak = await hash(user.password, params as Parameters<typeof hash>[1]);
    const now = t.clock.now();
    const account = await t.db
      .insertInto('accounts')
      .values({ email: user.email, username: user.username, full_name: null, country: 'PH', roles: ['freelancer'], password_hash: weak, email_verified_at: null, created_at: now, updated_at: now, closed_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();

    const res = await signIn(user.username, user.password, { 'user-agent': 'rehash-test' });
    expect(res.statusCode).toBe(200);
    const row = await t.db.selectFrom('accounts').select('password_hash').where('id', '=', account.id).executeTakeFirstOrThrow();
    expect(row.password_hash).not.toBe(weak);
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const audits = () => t.db.selectFrom('audit_events').selectAll().where('account_id', '=', account.id).where('event', '=', 'password.rehashed').execute();
    expect(await audits()).toHaveLength(1);
    expect((await audits())[0]!.user_agent).toBe('rehash-test');

    // The upgraded hash still accepts the password, and is not redone again.
    expect((await signIn(user.email, user.password)).statusCode).toBe(200);
    expect(await audits()).toHaveLength(1);
    expect((await signIn(user.email, 'a wrong password here')).statusCode).toBe(401);
  });

  it('does not rehash on a failed sign-in', async () => {
    const user = uniqueUser('legacy');
    const weak = await hash(user.password, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const now = t.clock.now();
    const account = await t.db
      .insertInto('accounts')
      .values({ email: user.email, username: user.username, full_name: null, country: 'PH', roles: ['client'], password_hash: weak, email_verified_at: null, created_at: now, updated_at: now, closed_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect((await signIn(user.username, 'not the password, sorry')).statusCode).toBe(401);
    const row = await t.db.selectFrom('accounts').select('password_hash').where('id', '=', account.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toBe(weak);
  });
});
