import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { consumeToken } from '../../src/platform/tokens.js';
import { auth, createTestApp, lastMessage, linkToken, problem, signUp, TEST_SECRET, type SignedUp, type TestApp, stepUp } from '../helpers/app.js';
import { verifyNumber } from '../phone/helpers.js';
import { addAuthenticator, auditEvents, call, changeMail, overview } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function confirmEmail(member: SignedUp): Promise<void> {
  const mail = await lastMessage(t, member.email);
  const token = linkToken(mail!.body, '/verify-email?token');
  const res = await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token } });
  expect(res.statusCode, res.body).toBe(200);
}

async function me(member: SignedUp) {
  return (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) })).json();
}

describe('two-step settings', () => {
  it('starts off, with a nudge to turn it on; GET /v1/me agrees', async () => {
    const member = await signUp(t);
    const view = await overview(t, member);
    expect(view).toMatchObject({ enabled: false, methods: [], backupCodes: null, passkeys: [], securityQuestion: null });
    expect(view.recommendation?.code).toBe('turn_on');
    expect((await me(member)).twoStep).toEqual({ enabled: false, methods: [] });
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/two-step' })).statusCode).toBe(401);
  });

  it('is on with the first method, nudges to keep two, and lists each method with when it was added', async () => {
    const member = await signUp(t);
    // With 2SV on, the second method needs a step-up: the password does it while 2SV is still off.
    await stepUp(t, member);
    await addAuthenticator(t, member);
    let view = await overview(t, member);
    expect(view.enabled).toBe(true);
    expect(view.recommendation?.code).toBe('add_second_method');
    t.clock.advanceSeconds(60);
    await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
    view = await overview(t, member);
    expect(view.recommendation).toBeUndefined();
    expect(view.methods.map((m) => m.type)).toEqual(['totp', 'backup_code']);
    expect(new Date(view.methods[1]!.addedAt).getTime() - new Date(view.methods[0]!.addedAt).getTime()).toBe(60_000);
    expect((await me(member)).twoStep).toEqual({ enabled: true, methods: ['totp', 'backup_code'] });
    // 2SV turned on once, not again with the second method.
    expect((await auditEvents(t, member.id)).filter((e) => e.event === 'two_step.enabled')).toHaveLength(1);
  });

  it('text messages and calls need a verified phone (409 phone_verification_required)', async () => {
    const member = await signUp(t);
    await stepUp(t, member);
    for (const type of ['sms', 'voice']) {
      const res = await call(t, member, 'POST', `/v1/me/two-step/${type}`);
      expect(res.statusCode).toBe(409);
      expect(problem(res).code).toBe('phone_verification_required');
    }
    expect((await overview(t, member)).enabled).toBe(false);

    const number = await verifyNumber(t, member);
    const res = await call(t, member, 'POST', '/v1/me/two-step/sms');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().methods.map((m: { type: string }) => m.type)).toEqual(['sms']);
    expect((await changeMail(t, member)).body).toContain(`the number ending in ${number.slice(-2)}`);
    // Asking again changes nothing and sends nothing.
    const events = (await auditEvents(t, member.id)).length;
    expect((await call(t, member, 'POST', '/v1/me/two-step/sms')).statusCode).toBe(200);
    expect((await auditEvents(t, member.id)).length).toBe(events);

    expect(await t.app.verity.twoStep.challengeMethods(member.id)).toEqual([{ type: 'sms', hint: `•••• ${number.slice(-2)}` }]);
  });

  it('the phone cannot be removed while codes to it are the only method (409 last_two_step_method)', async () => {
    const member = await signUp(t);
    await verifyNumber(t, member);
    await stepUp(t, member);
    await call(t, member, 'POST', '/v1/me/two-step/sms');
    await call(t, member, 'POST', '/v1/me/two-step/voice');
    const refused = await t.app.inject({ method: 'DELETE', url: '/v1/me/phone', headers: auth(member.token) });
    expect(refused.statusCode).toBe(409);
    expect(problem(refused).code).toBe('last_two_step_method');
    expect((await me(member)).phone).not.toBeNull();

    expect((await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' })).statusCode).toBe(200);
    t.clock.advanceSeconds(10 * 60);
    // Removing a verified number is sensitive: 2SV is on, so a two-step method steps up.
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/me/phone', headers: auth(member.token) })).statusCode).toBe(403);
    await stepUp(t, member, async (challenge) => {
      expect(challenge.methods.map((m) => m.type)).not.toContain('password');
      const res = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, headers: auth(member.token), payload: { method: 'security_question', answer: 'rex' } });
      expect(res.statusCode).toBe(200);
    });
    const removed = await t.app.inject({ method: 'DELETE', url: '/v1/me/phone', headers: auth(member.token) });
    expect(removed.statusCode).toBe(204);
    // Codes to a phone that is gone are no method any more.
    expect((await overview(t, member)).methods.map((m) => m.type)).toEqual(['security_question']);
  });

  it('e-mail codes need a confirmed address', async () => {
    const member = await signUp(t);
    const refused = await call(t, member, 'POST', '/v1/me/two-step/email');
    expect(refused.statusCode).toBe(409);
    expect(problem(refused).code).toBe('email_verification_required');
    await confirmEmail(member);
    const res = await call(t, member, 'POST', '/v1/me/two-step/email');
    expect(res.statusCode, res.body).toBe(200);
    const hint = (await t.app.verity.twoStep.challengeMethods(member.id))[0];
    expect(hint).toEqual({ type: 'email', hint: `${member.email[0]}•••@example.com` });
  });

  it('lists every method for a challenge with its hint', async () => {
    const member = await signUp(t);
    await stepUp(t, member);
    await addAuthenticator(t, member);
    t.clock.advanceSeconds(1);
    await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    t.clock.advanceSeconds(1);
    await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
    expect(await t.app.verity.twoStep.challengeMethods(member.id)).toEqual([
      { type: 'totp' },
      { type: 'security_question', question: 'What was the name of your first pet?' },
      { type: 'backup_code', hint: '10 left' },
    ]);
  });

  it('removing the last method turns 2SV off and says so by e-mail; unknown types are refused', async () => {
    const member = await signUp(t);
    await stepUp(t, member);
    await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    t.clock.advanceSeconds(1);
    await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
    t.clock.advanceSeconds(1);
    expect((await call(t, member, 'DELETE', '/v1/me/two-step/security_question')).statusCode).toBe(204);
    expect((await overview(t, member)).enabled).toBe(true);
    expect((await changeMail(t, member)).subject).toBe('Your Verity two-step verification settings changed');
    t.clock.advanceSeconds(1);
    expect((await call(t, member, 'DELETE', '/v1/me/two-step/backup_code')).statusCode).toBe(204);
    expect((await overview(t, member)).enabled).toBe(false);
    // Events of one change share a time stamp; compare change by change.
    const byTime = new Map<string, string[]>();
    for (const e of await auditEvents(t, member.id)) {
      if (!e.event.startsWith('two_step.')) continue;
      const key = e.created_at.toISOString();
      byTime.set(key, [...(byTime.get(key) ?? []), e.event].sort());
    }
    expect([...byTime.values()]).toEqual([
      ['two_step.enabled', 'two_step.method_added'],
      ['two_step.method_added'],
      ['two_step.method_removed'],
      ['two_step.disabled', 'two_step.method_removed'],
    ]);
    expect((await changeMail(t, member)).subject).toBe('Two-step verification is now off for your Verity account');

    const bad = await call(t, member, 'DELETE', '/v1/me/two-step/password');
    expect(bad.statusCode).toBe(400);
    expect((await call(t, member, 'DELETE', '/v1/me/two-step/sms')).statusCode).toBe(404);
  });

  it('each "this wasn\'t me" link is single-use and belongs to the member', async () => {
    const member = await signUp(t);
    await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
    const mail = await changeMail(t, member);
    const token = linkToken(mail.body, '/recover/not-me/');
    const key = deriveSecrets(TEST_SECRET).tokenKey;
    expect(await consumeToken(t.db, { key, now: t.clock.now(), purpose: 'not_me', token })).toBe(member.id);
    expect(await consumeToken(t.db, { key, now: t.clock.now(), purpose: 'not_me', token })).toBeNull();
  });
});
