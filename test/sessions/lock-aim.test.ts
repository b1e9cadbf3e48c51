import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies } from '../../src/platform/ratelimit.js';
import { sourceOf } from '../../src/sessions/lock.js';
import { auth, createTestApp, lastMessage, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function signIn(login: string, password: string, ip: string) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: ip });
}

async function fail(login: string, times: number, ip: string) {
  for (let i = 0; i < times; i++) expect((await signIn(login, `wrong password ${i}`, ip)).statusCode).toBe(401);
}

describe('a lock a stranger cannot aim at the owner', () => {
  it('locks the guessing address only: the owner signs in from elsewhere', async () => {
    const member = await signUp(t);
    const stranger = randomIp();
    await fail(member.username, 10, stranger);
    expect((await signIn(member.username, member.password, stranger)).statusCode).toBe(423);
    const owner = await signIn(member.username, member.password, randomIp());
    expect(owner.statusCode).toBe(200);
    expect(owner.json().status).toBe('authenticated');
  });

  it('counts an IPv6 source by its /64', async () => {
    expect(sourceOf('2001:db8:1:2::a')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('2001:0DB8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('::ffff:10.1.2.3')).toBe('10.1.2.3');
    const member = await signUp(t);
    for (let i = 0; i < 10; i++) expect((await signIn(member.username, `wrong ${i}`, `2001:db8:77:1::${(i + 1).toString(16)}`)).statusCode).toBe(401);
    expect((await signIn(member.username, member.password, '2001:db8:77:1::ffff')).statusCode).toBe(423);
    expect((await signIn(member.username, member.password, '2001:db8:77:2::1')).statusCode).toBe(200);
  });

  it('reveals nothing: a lock on a username does not tell which e-mail is its', async () => {
    const member = await signUp(t);
    const ip = randomIp();
    await fail(member.username, 10, ip);
    // Guessing e-mails from the same address: the right one and a wrong one answer alike.
    const guessed = await signIn(member.email, 'not the password', ip);
    const other = await signIn('someone-else@example.com', 'not the password', ip);
    expect(guessed.statusCode).toBe(401);
    expect(other.statusCode).toBe(401);
    expect(guessed.body).toBe(other.body);
  });

  it('warns when 3 tries are left, alike for known and unknown logins', async () => {
    const member = await signUp(t);
    const ip = randomIp();
    const ghost = `ghost-${Math.random().toString(36).slice(2)}`;
    await fail(member.username, 6, ip);
    await fail(ghost, 6, ip);
    const known = await signIn(member.username, 'wrong again', ip);
    const unknown = await signIn(ghost, 'wrong again', ip);
    expect(problem(known)).toMatchObject({ code: 'invalid_credentials', attemptsLeft: 3 });
    expect(problem(known).detail).toBe('The username, e-mail or password is not right. 3 tries left before signing in is paused for a while.');
    expect(unknown.body).toBe(known.body);
  });
});

describe('an account under attack from many places', () => {
  const threshold = policies.signin_account_failures.limit;

  async function spray(login: string, times: number) {
    for (let i = 0; i < times; i++) expect((await signIn(login, `botnet guess ${i}`, randomIp())).statusCode).toBe(401);
  }

  it(`below ${threshold} failures an hour the right password signs in as usual`, async () => {
    const member = await signUp(t);
    await spray(member.username, threshold - 1);
    const res = await signIn(member.username, member.password, randomIp());
    expect(res.json().status).toBe('authenticated');
  });

  it(`past ${threshold}: no lock, but the right password also needs a code e-mailed to the account; the member is told`, async () => {
    const member = await signUp(t);
    await spray(member.email, threshold);
    const warning = await lastMessage(t, member.email);
    expect(warning?.subject).toBe('Many failed sign-ins to your Verity account');
    expect(warning?.body).toContain(`${threshold} failed sign-ins`);

    const res = await signIn(member.username, member.password, randomIp());
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('two_step_required');
    expect(body).not.toHaveProperty('session');
    expect(body.challenge).toMatchObject({ purpose: 'login', methods: [{ type: 'email', hint: expect.stringContaining('•••') }] });
    // The challenge is nothing that works as a session.
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(body.challenge.id) })).statusCode).toBe(401);

    const id = body.challenge.id as string;
    expect((await t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/send`, payload: { method: 'email' } })).statusCode).toBe(202);
    const code = /code is (\d{6})/.exec((await lastMessage(t, member.email))?.body ?? '')?.[1];
    const passed = await t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/verify`, payload: { method: 'email', code } });
    expect(passed.statusCode).toBe(200);
    expect(passed.json()).toMatchObject({ status: 'authenticated', account: { id: member.id } });

    // A botnet that knows the password still cannot get in without the mailbox.
    const again = await signIn(member.username, member.password, randomIp());
    expect(again.json().status).toBe('two_step_required');
    // An hour later, with the guessing stopped, the password alone works again.
    t.clock.advanceSeconds(policies.signin_account_failures.windowSeconds * (1 + 1 / 15));
    expect((await signIn(member.username, member.password, randomIp())).json().status).toBe('authenticated');
  });
});
