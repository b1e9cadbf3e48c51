import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const NEW_PASSWORD = 'copper kettle beside winter window';

function signIn(login: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: randomIp() });
}
async function me(token: string) {
  return (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(token) })).statusCode;
}
/** A security notice with a "this wasn't me" link: a password change makes one. */
async function notMeToken(member: SignedUp): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/me/password', headers: auth(member.token), payload: { password: member.password, newPassword: NEW_PASSWORD } });
  expect(res.statusCode).toBe(200);
  member.password = NEW_PASSWORD;
  return linkToken((await lastMessage(t, member.email))!.body, '/recover/not-me');
}
async function cases(accountId: string) {
  return t.db.selectFrom('support_cases').selectAll().where('account_id', '=', accountId).execute();
}

describe('"this wasn\'t me" locks the intruder out', () => {
  it('ends every session, refuses sign-in with 423 until a reset, opens an urgent case, and works once', async () => {
    const member = await signUp(t);
    const token = await notMeToken(member);
    const intruder = (await signIn(member.username, member.password)).json().session.token as string;

    const res = await t.app.inject({ method: 'POST', url: `/v1/recovery/not-me/${token}` });
    expect(res.statusCode).toBe(200);
    expect(await me(member.token)).toBe(401);
    expect(await me(intruder)).toBe(401);
    const refused = await signIn(member.username, member.password);
    expect(refused.statusCode).toBe(423);
    expect(problem(refused).code).toBe('account_locked');
    expect(problem(refused).detail).toMatch(/reset your password/i);
    const opened = await cases(member.id);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ kind: 'compromised', priority: 'urgent', status: 'open', source: 'not_me_link' });
    expect((await lastMessage(t, member.email))?.subject).toBe('Your Verity account is locked for your protection');

    const again = await t.app.inject({ method: 'POST', url: `/v1/recovery/not-me/${token}` });
    expect(again.statusCode).toBe(410);
    expect(problem(again).code).toBe('token_invalid');
    expect(await cases(member.id)).toHaveLength(1);

    // The way back: a reset through the e-mail link ends the lock.
    await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login: member.username }, remoteAddress: randomIp() });
    const reset = linkToken((await lastMessage(t, member.email))!.body, '/recover/password');
    expect((await t.app.inject({ method: 'POST', url: `/v1/recovery/password/${reset}`, payload: { newPassword: 'fresh start with a long passphrase' } })).statusCode).toBe(200);
    expect((await signIn(member.username, 'fresh start with a long passphrase')).statusCode).toBe(200);
  });

  it('answers unknown, tampered and expired links alike with 410, locking nothing', async () => {
    const member = await signUp(t);
    const token = await notMeToken(member);
    const bodies = new Set<string>();
    for (const bad of ['x'.repeat(43), token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')]) {
      const res = await t.app.inject({ method: 'POST', url: `/v1/recovery/not-me/${bad}` });
      expect(res.statusCode).toBe(410);
      bodies.add(res.body);
    }
    t.clock.advanceSeconds(7 * 24 * 3600 + 1);
    const expired = await t.app.inject({ method: 'POST', url: `/v1/recovery/not-me/${token}` });
    expect(expired.statusCode).toBe(410);
    bodies.add(expired.body);
    expect(bodies.size).toBe(1);
    expect((await signIn(member.username, member.password)).statusCode).toBe(200);
    expect(await cases(member.id)).toHaveLength(0);
  });

  it('the signed-in report locks the same way, the caller\'s session too', async () => {
    const member = await signUp(t);
    const res = await t.app.inject({ method: 'POST', url: '/v1/me/compromised', headers: auth(member.token), payload: { details: 'Someone changed my name' } });
    expect(res.statusCode).toBe(202);
    expect(await me(member.token)).toBe(401);
    expect((await signIn(member.username, member.password)).statusCode).toBe(423);
    expect((await cases(member.id))[0]).toMatchObject({ priority: 'urgent', source: 'signed_in_report', details: 'Someone changed my name' });
  });
});

describe('anonymous compromise reports', () => {
  it('record a case, lock nothing, and answer alike for known and unknown logins', async () => {
    const member = await signUp(t);
    const report = (login: string) =>
      t.app.inject({ method: 'POST', url: '/v1/recovery/compromised', payload: { login, contactEmail: 'worried@example.org', details: 'Strange proposals sent' }, remoteAddress: randomIp() });
    const known = await report(member.username);
    const unknown = await report('no-such-member');
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(Object.keys(known.json())).toEqual(['ticketId']);
    expect(Object.keys(unknown.json())).toEqual(['ticketId']);
    expect(known.json().ticketId).not.toBe(unknown.json().ticketId);
    expect(await me(member.token)).toBe(200);
    expect((await signIn(member.username, member.password)).statusCode).toBe(200);
    expect((await cases(member.id))[0]).toMatchObject({ kind: 'compromised', priority: 'high', source: 'anonymous_report', contact_email: 'worried@example.org' });
  });

  it('refuses bad input with 400 and records nothing', async () => {
    const before = await t.db.selectFrom('support_cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    for (const payload of [{}, { contactEmail: 'not-an-address', details: 'x' }, { contactEmail: 'a@example.org', details: '' }, { contactEmail: 'a@example.org', details: 'x', admin: true }]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/recovery/compromised', payload, remoteAddress: randomIp() });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const after = await t.db.selectFrom('support_cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    expect(await countRows(t.db, 'accounts')).toBeGreaterThan(0);
  });
});
