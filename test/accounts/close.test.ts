import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, lastMessage, problem, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function close(token: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(token), payload: { password }, remoteAddress: randomIp() });
}

function signIn(login: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: randomIp() });
}

describe('POST /v1/me/close', () => {
  it('closes the account: every session ends and sign-in is refused afterwards', async () => {
    const member = await signUp(t);
    const second = (await signIn(member.username, member.password)).json().session.token as string;

    const res = await close(member.token, member.password);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'closed' });

    for (const token of [member.token, second]) {
      const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(token) });
      expect(me.statusCode).toBe(401);
    }
    const live = await t.db.selectFrom('sessions').select('id').where('account_id', '=', member.id).where('revoked_at', 'is', null).execute();
    expect(live).toHaveLength(0);

    // Refused exactly like an unknown login: a closed account is not revealed.
    for (const login of [member.username, member.email]) {
      const again = await signIn(login, member.password);
      expect(again.statusCode).toBe(401);
      expect(problem(again).code).toBe('invalid_credentials');
    }
    const row = await t.db.selectFrom('accounts').select(['status', 'closed_at']).where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('closed');
    expect(row.closed_at?.toISOString()).toBe(t.clock.now().toISOString());
  });

  it('re-checks the password: a wrong one changes nothing', async () => {
    const member = await signUp(t);
    const res = await close(member.token, 'not the password at all');
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('invalid_credentials');
    expect(problem(res).errors?.map((e) => e.path)).toContain('/password');
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(me.statusCode).toBe(200);
    expect(me.json().status).toBe('active');
  });

  it('counts wrong passwords toward the sign-in lock, so a stolen session cannot guess forever', async () => {
    const member = await signUp(t);
    for (let i = 0; i < 10; i++) expect((await close(member.token, `wrong guess number ${i}`)).statusCode).toBe(401);
    const locked = await close(member.token, member.password);
    expect(locked.statusCode).toBe(423);
    expect(problem(locked).code).toBe('account_locked');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // The owner signing in elsewhere (to end that session) is not locked out by it.
    expect((await signIn(member.username, member.password)).statusCode).toBe(200);
    // The account is still open; after the lock it can be closed with the password.
    t.clock.advanceSeconds(Number(locked.headers['retry-after']));
    expect((await close(member.token, member.password)).statusCode).toBe(200);
  });

  it('records account.closed in the audit log and sends a notice', async () => {
    const member = await signUp(t);
    await t.app.inject({ method: 'POST', url: '/v1/me/close', headers: { ...auth(member.token), 'user-agent': 'close-test/1' }, payload: { password: member.password }, remoteAddress: '10.9.8.7' });
    const rows = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'account.closed').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ip: '10.9.8.7', user_agent: 'close-test/1' });
    const mail = await lastMessage(t, member.email);
    expect(mail?.channel).toBe('email');
    expect(mail?.subject).toContain('account is closed');
  });

  it('frees the e-mail for a new account but never the username', async () => {
    const member = await signUp(t);
    expect((await close(member.token, member.password)).statusCode).toBe(200);
    const sameEmail = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), email: member.email }, remoteAddress: randomIp() });
    expect(sameEmail.statusCode).toBe(201);
    const sameName = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), username: member.username }, remoteAddress: randomIp() });
    expect(sameName.statusCode).toBe(409);
    expect(problem(sameName).code).toBe('username_taken');
    // Signing in with the e-mail now reaches the new account, never the closed one.
    const res = await signIn(member.email, 'correct horse battery staple');
    expect(res.statusCode).toBe(200);
    expect(res.json().account.id).toBe(sameEmail.json().account.id);
  });

  it('refuses a request without a password or with extra fields, changing nothing', async () => {
    const member = await signUp(t);
    const before = await countRows(t.db, 'audit_events');
    for (const payload of [{}, { password: '' }, { password: member.password, confirm: true }, { password: 12345 }]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(member.token), payload });
      expect(res.statusCode).toBe(400);
      expect(problem(res).code).toBe('invalid_request');
    }
    expect(await countRows(t.db, 'audit_events')).toBe(before);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) })).statusCode).toBe(200);
  });

  it('needs a session', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/me/close', payload: { password: 'whatever it is' } });
    expect(res.statusCode).toBe(401);
  });
});
