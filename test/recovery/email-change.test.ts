import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, stepUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function ask(token: string, email: string) {
  await stepUp(t, { token });
  return t.app.inject({ method: 'POST', url: '/v1/me/email', headers: auth(token), payload: { email } });
}
function confirm(token: string) {
  return t.app.inject({ method: 'POST', url: '/v1/accounts/email-change', payload: { token } });
}
async function email(token: string) {
  return (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(token) })).json().email as string;
}

describe('changing the e-mail address', () => {
  it('takes effect only through the new address\'s link; the old one is told with a revert link', async () => {
    const member = await signUp(t);
    const fresh = `new-${member.username}@example.net`;
    expect((await ask(member.token, fresh)).statusCode).toBe(202);
    expect(await email(member.token)).toBe(member.email);
    const link = linkToken((await lastMessage(t, fresh))!.body, '/account/email/confirm?token');

    const res = await confirm(link);
    expect(res.statusCode).toBe(200);
    expect(res.json().account.email).toBe(fresh);
    expect(await email(member.token)).toBe(fresh);
    expect((await confirm(link)).statusCode).toBe(410);

    const notice = await lastMessage(t, member.email);
    expect(notice?.subject).toBe('The e-mail address of your Verity account was changed');
    const notMe = linkToken(notice!.body, '/recover/not-me');

    // "This wasn't me" within 7 days puts the old address back and locks the account.
    t.clock.advanceSeconds(6 * 24 * 3600);
    expect((await t.app.inject({ method: 'POST', url: `/v1/recovery/not-me/${notMe}` })).statusCode).toBe(200);
    const row = await t.db.selectFrom('accounts').select(['email', 'status']).where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ email: member.email, status: 'locked' });
  });

  it('a second request replaces the first link; an expired link is refused', async () => {
    const member = await signUp(t);
    await ask(member.token, `first-${member.username}@example.net`);
    const first = linkToken((await lastMessage(t, `first-${member.username}@example.net`))!.body, '/account/email/confirm?token');
    await ask(member.token, `second-${member.username}@example.net`);
    const second = linkToken((await lastMessage(t, `second-${member.username}@example.net`))!.body, '/account/email/confirm?token');
    expect((await confirm(first)).statusCode).toBe(410);
    t.clock.advanceSeconds(24 * 3600 + 1);
    expect((await confirm(second)).statusCode).toBe(410);
    expect(await email(member.token)).toBe(member.email);
  });

  it('refuses an address in use (any case) with 409, and the race for one address has one winner', async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    const taken = await ask(a.token, b.email.toUpperCase());
    expect(taken.statusCode).toBe(409);
    expect(problem(taken).code).toBe('email_taken');

    const contested = `contested-${a.username}@example.net`;
    await ask(a.token, contested);
    const linkA = linkToken((await lastMessage(t, contested))!.body, '/account/email/confirm?token');
    await ask(b.token, contested.toUpperCase());
    const linkB = linkToken((await lastMessage(t, contested.toUpperCase()))!.body, '/account/email/confirm?token');
    const results = await Promise.all([confirm(linkA), confirm(linkB)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const holders = await t.db.selectFrom('accounts').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', contested.toLowerCase())).execute();
    expect(holders).toHaveLength(1);
  });

  it('refuses bad input with 400 and sends nothing', async () => {
    const member = await signUp(t);
    const refused = await t.app.inject({ method: 'POST', url: '/v1/me/email', headers: auth(member.token), payload: { email: 'fresh@example.org' } });
    expect(refused.statusCode).toBe(403);
    expect(problem(refused).code).toBe('step_up_required');
    await stepUp(t, member);
    for (const payload of [{}, { email: 'nope' }, { email: member.email }, { email: 'a@b.co', more: 1 }]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/me/email', headers: auth(member.token), payload, remoteAddress: randomIp() });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect((await t.app.inject({ method: 'POST', url: '/v1/me/email', payload: { email: 'x@example.org' } })).statusCode).toBe(401);
  });
});
