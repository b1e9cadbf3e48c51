import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';
import { call, overview } from '../twostep/helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** A member whose only two-step method is backup codes, every one of them spent: 2SV is on, nothing can pass it. */
async function memberWithSpentCodes(): Promise<SignedUp> {
  const member = await signUp(t);
  const mail = await lastMessage(t, member.email);
  await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token: linkToken(mail!.body, '/verify-email?token') } });
  const codes = (await call(t, member, 'POST', '/v1/me/two-step/backup-codes')).json().codes as string[];
  for (const code of codes) expect(await t.app.verity.twoStep.backupCodes.use(member.id, code)).toBe(true);
  expect((await overview(t, member)).enabled).toBe(true);
  return member;
}

const signIn = (who: SignedUp) => t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: who.username, password: who.password }, remoteAddress: randomIp() });

describe('an account with 2SV on and no method it can use', () => {
  it('signing in answers 409 no_usable_method with the way to support, not a 500, and issues nothing', async () => {
    const member = await memberWithSpentCodes();
    const sessionsBefore = await t.db.selectFrom('sessions').select('id').where('account_id', '=', member.id).execute();
    const res = await signIn(member);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(problem(res)).toMatchObject({
      code: 'no_usable_method',
      detail: expect.stringContaining('contact support'),
      recovery: [
        { rel: 'security_reset', href: '/recover/security-reset', title: 'Reset your security information' },
        { rel: 'contact_support', href: '/support/contact', title: 'Contact support' },
      ],
    });
    // The right password alone still opens nothing.
    expect(res.json().session).toBeUndefined();
    expect(await t.db.selectFrom('sessions').select('id').where('account_id', '=', member.id).execute()).toHaveLength(sessionsBefore.length);
    const audit = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', member.id).where('event', '=', 'challenge.no_method').execute();
    expect(audit.map((a) => a.details)).toEqual([{ purpose: 'login', reason: 'two_step' }]);
  });

  it('the sign-in page says so beside the form', async () => {
    const member = await memberWithSpentCodes();
    const visitor = new Visitor(t);
    await visitor.get('/login');
    const res = await visitor.post('/login', { login: member.username, password: member.password, next: '/account' });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('None of your two-step verification methods can be used now.');
    expect(visitor.cookies.has('verity_session')).toBe(false);
  });

  it('a signed-in member steps up with the password or an e-mail code, so new backup codes can be made', async () => {
    const member = await memberWithSpentCodes();
    const refused = await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
    expect(refused.statusCode).toBe(403);
    const { challenge } = refused.json() as { challenge: { id: string; methods: Array<{ type: string }> } };
    expect(challenge.methods.map((m) => m.type)).toEqual(['email', 'password']);
    const passed = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, headers: auth(member.token), payload: { method: 'password', password: member.password } });
    expect(passed.statusCode, passed.body).toBe(200);
    const fresh = await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
    expect(fresh.statusCode).toBe(200);
    expect((await overview(t, member)).backupCodes).toEqual({ remaining: 10, low: false });
    // With a usable method again, the password is no step-up any more.
    const next = await t.app.inject({ method: 'POST', url: '/v1/me/step-up', headers: auth(member.token) });
    expect(next.json().challenge.methods.map((m: { type: string }) => m.type)).toEqual(['backup_code']);
  });
});
