import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noMeta } from '../../src/platform/audit.js';
import { consumeToken, issueToken } from '../../src/platform/tokens.js';
import { auth, countRows, createTestApp, lastMessage, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const NEW_PASSWORD = 'violet staircase under moonlit harbour';

function change(token: string, payload: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'POST', url: '/v1/me/password', headers: { ...auth(token), ...headers }, payload: payload as object, remoteAddress: '10.3.3.3' });
}

function signIn(login: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: randomIp() });
}

async function status(token: string) {
  return (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(token) })).statusCode;
}

async function snapshot(member: SignedUp) {
  const account = await t.db.selectFrom('accounts').select(['password_hash', 'updated_at']).where('id', '=', member.id).executeTakeFirstOrThrow();
  const live = await t.db.selectFrom('sessions').select('id').where('account_id', '=', member.id).where('revoked_at', 'is', null).execute();
  const changed = await t.db.selectFrom('audit_events').select('id').where('account_id', '=', member.id).where('event', '=', 'password.changed').execute();
  return { account, live: live.length, changed: changed.length, outbox: await countRows(t.db, 'outbox') };
}

describe('POST /v1/me/password', () => {
  it('sets the new password, keeps this session and ends every other one', async () => {
    const member = await signUp(t);
    const other = (await signIn(member.email, member.password)).json().session.token as string;
    const before = (await t.db.selectFrom('accounts').select('password_hash').where('id', '=', member.id).executeTakeFirstOrThrow()).password_hash;

    const res = await change(member.token, { password: member.password, newPassword: NEW_PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'password_changed', sessionsEnded: 1 });

    expect(await status(member.token)).toBe(200);
    expect(await status(other)).toBe(401);
    expect((await signIn(member.username, member.password)).statusCode).toBe(401);
    expect((await signIn(member.username, NEW_PASSWORD)).statusCode).toBe(200);
    const after = (await t.db.selectFrom('accounts').select('password_hash').where('id', '=', member.id).executeTakeFirstOrThrow()).password_hash;
    expect(after).not.toBe(before);
    expect(after).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('audits password.changed with IP, user agent and time, and e-mails a notice', async () => {
    const member = await signUp(t);
    t.clock.advanceSeconds(5);
    expect((await change(member.token, { password: member.password, newPassword: NEW_PASSWORD }, { 'user-agent': 'pw-test/1' })).statusCode).toBe(200);
    const rows = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'password.changed').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ip: '10.3.3.3', user_agent: 'pw-test/1', details: { via: 'change', sessionsEnded: 0 } });
    expect(rows[0]!.created_at.getTime()).toBe(t.clock.now().getTime());
    const mail = await lastMessage(t, member.email);
    expect(mail?.subject).toBe('Your Verity password was changed');
    expect(mail?.body).toContain(t.clock.now().toISOString());
    expect(mail?.body).toMatch(/http:\/\/localhost:3000\/recover\/not-me\/[A-Za-z0-9_-]{40,}/);
    expect(mail?.body).not.toContain(NEW_PASSWORD);
  });

  it('re-checks the current password: a wrong one is 401 beside the field and changes nothing', async () => {
    const member = await signUp(t);
    const before = await snapshot(member);
    const res = await change(member.token, { password: 'not my password at all', newPassword: NEW_PASSWORD });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('invalid_credentials');
    expect(problem(res).errors?.map((e) => e.path)).toEqual(['/password']);
    expect(await snapshot(member)).toEqual(before);
    expect(await status(member.token)).toBe(200);
  });

  it('locks re-typing the password after 10 wrong ones, so a stolen session cannot guess forever', async () => {
    const member = await signUp(t);
    for (let i = 0; i < 10; i++) expect((await change(member.token, { password: `wrong guess ${i} here`, newPassword: NEW_PASSWORD })).statusCode).toBe(401);
    const locked = await change(member.token, { password: member.password, newPassword: NEW_PASSWORD });
    expect(locked.statusCode).toBe(423);
    expect(problem(locked).code).toBe('account_locked');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // The owner signing in elsewhere (to end that session) is not locked out by it.
    expect((await signIn(member.username, member.password)).statusCode).toBe(200);
  });

  it.each([
    ['too short', 'short one', 'Use at least 10 characters.'],
    ['common', 'password123', 'This is a commonly used password.'],
  ])('refuses a %s new password with 422 and reasons beside newPassword, changing nothing', async (_label, newPassword, reason) => {
    const member = await signUp(t);
    const before = await snapshot(member);
    const res = await change(member.token, { password: member.password, newPassword });
    expect(res.statusCode).toBe(422);
    expect(problem(res).code).toBe('password_too_weak');
    expect(problem(res).reasons).toContain(reason);
    expect(problem(res).errors?.map((e) => e.path)).toEqual(['/newPassword']);
    expect(await snapshot(member)).toEqual(before);
  });

  it('refuses a new password that contains the username', async () => {
    const member = await signUp(t);
    const res = await change(member.token, { password: member.password, newPassword: `${member.username} is my castle` });
    expect(res.statusCode).toBe(422);
    expect(problem(res).reasons).toContain('Do not include your username in your password.');
  });

  it.each([
    [{ newPassword: NEW_PASSWORD }, '/password'],
    [{ password: 'x' }, '/newPassword'],
    [{ password: 'x', newPassword: 12345678901 }, '/newPassword'],
    [{ password: 'x', newPassword: NEW_PASSWORD, confirm: NEW_PASSWORD }, '/confirm'],
  ])('refuses the malformed body %j with 400, changing nothing', async (payload, path) => {
    const member = await signUp(t);
    const before = await snapshot(member);
    const res = await change(member.token, payload);
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('invalid_request');
    expect(problem(res).errors?.map((e) => e.path)).toContain(path);
    expect(await snapshot(member)).toEqual(before);
  });

  it('needs a session', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/me/password', payload: { password: 'a', newPassword: NEW_PASSWORD } });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('unauthenticated');
  });
});

describe('setPassword (the step recovery uses)', () => {
  it('ends every session when none is kept, and kills open password-reset links', async () => {
    const member = await signUp(t);
    const key = t.app.verity.secrets.tokenKey;
    const link = await t.db.transaction().execute((trx) =>
      issueToken(trx, { key, random: t.app.verity.random, now: t.clock.now(), accountId: member.id, purpose: 'password_reset' }),
    );
    const result = await t.app.verity.accounts.setPassword(member.id, NEW_PASSWORD, noMeta, { via: 'reset' });
    expect(result).toEqual({ sessionsEnded: 1 });
    expect(await status(member.token)).toBe(401);
    const used = await t.db.transaction().execute((trx) => consumeToken(trx, { key, now: t.clock.now(), purpose: 'password_reset', token: link }));
    expect(used).toBeNull();
    const audit = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', member.id).where('event', '=', 'password.changed').execute();
    expect(audit.map((a) => a.details)).toEqual([{ via: 'reset', sessionsEnded: 1 }]);
    expect((await signIn(member.email, NEW_PASSWORD)).statusCode).toBe(200);
  });
});
