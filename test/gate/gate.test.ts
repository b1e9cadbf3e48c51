import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeconds } from '../../src/platform/clock.js';
import { noMeta } from '../../src/platform/audit.js';
import { auth, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, type SignedUp, type TestApp, stepUp } from '../helpers/app.js';
import { verifyNumber } from '../phone/helpers.js';
import { GateService } from '../../src/gate/service.js';

let t: TestApp;
let serviceKey: string;
beforeAll(async () => {
  t = await createTestApp();
  const owner = await signUp(t);
  serviceKey = (await t.app.verity.admin.createServiceKey(owner.id, 'jobs-service', noMeta)).key;
});
afterAll(async () => {
  await t.close();
});

function check(accountId: unknown, action: unknown, key = serviceKey, sessionId?: string) {
  return t.app.inject({ method: 'POST', url: '/v1/gate/check', headers: auth(key), payload: { accountId, action, ...(sessionId ? { sessionId } : {}) } });
}

async function permissions(who: SignedUp) {
  const res = await t.app.inject({ method: 'GET', url: '/v1/me/permissions', headers: auth(who.token) });
  expect(res.statusCode).toBe(200);
  return res.json();
}

async function verifyEmail(who: SignedUp) {
  const token = linkToken((await lastMessage(t, who.email))!.body, 'verify-email?token');
  const res = await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token } });
  expect(res.statusCode).toBe(200);
}

async function sessionId(sessionToken: string): Promise<string> {
  const me = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(sessionToken) });
  return me.json().find((s: { current: boolean }) => s.current).id;
}

async function elevate(sessionToken: string, seconds: number) {
  const id = await sessionId(sessionToken);
  await t.db.updateTable('sessions').set({ elevated_until: addSeconds(t.clock.now(), seconds) }).where('id', '=', id).execute();
  return id;
}

describe('the gate', () => {
  it('refuses trust actions until the phone and e-mail are verified, then allows them (both endpoints)', async () => {
    const member = await signUp(t);
    const before = await check(member.id, 'post_job');
    expect(before.statusCode).toBe(200);
    expect(before.json()).toEqual({ allowed: false, reasons: ['email_verification_required', 'phone_verification_required'] });
    const mine = await permissions(member);
    expect(mine.submit_proposal).toEqual({ allowed: false, reasons: ['email_verification_required', 'phone_verification_required'] });
    expect(mine.withdraw_funds.reasons).toEqual(['email_verification_required', 'phone_verification_required', 'two_step_required', 'step_up_required']);

    await verifyEmail(member);
    expect((await check(member.id, 'submit_proposal')).json()).toEqual({ allowed: false, reasons: ['phone_verification_required'] });

    await verifyNumber(t, member);
    for (const action of ['post_job', 'submit_proposal']) {
      expect((await check(member.id, action)).json()).toEqual({ allowed: true, reasons: [] });
    }
    const after = await permissions(member);
    expect(after.post_job).toEqual({ allowed: true, reasons: [] });
    expect(after.submit_proposal).toEqual({ allowed: true, reasons: [] });
    expect(after.view_payments).toEqual({ allowed: false, reasons: ['two_step_required', 'step_up_required'] });
    expect((await check(member.id, 'withdraw_funds')).json()).toEqual({ allowed: false, reasons: ['two_step_required', 'step_up_required'] });

    // Removing the number closes the gate again.
    await stepUp(t, member);
    await t.app.inject({ method: 'DELETE', url: '/v1/me/phone', headers: auth(member.token) });
    expect((await check(member.id, 'post_job')).json()).toEqual({ allowed: false, reasons: ['phone_verification_required'] });
  });

  it('judges a step-up in the session that acts: the member\'s own, or the one a service names', async () => {
    const member = await signUp(t);
    await verifyEmail(member);
    await verifyNumber(t, member);
    const signIn = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: randomIp() });
    const other = { ...member, token: signIn.json().session.token as string };
    const twoStepOnly = { allowed: false, reasons: ['two_step_required'] };
    const both = { allowed: false, reasons: ['two_step_required', 'step_up_required'] };

    const elevatedId = await elevate(other.token, 300);
    const memberSessionId = await sessionId(member.token);
    expect((await permissions(other)).withdraw_funds).toEqual(twoStepOnly);
    expect((await permissions(member)).withdraw_funds).toEqual(both);
    // Stepping up on one device unlocks nothing on another: a service names its session.
    expect((await check(member.id, 'view_payments', serviceKey, elevatedId)).json()).toEqual(twoStepOnly);
    expect((await check(member.id, 'view_payments', serviceKey, memberSessionId)).json()).toEqual(both);
    expect((await check(member.id, 'view_payments')).json()).toEqual(both);
    // Another account's elevated session is not this account's.
    const stranger = await signUp(t);
    expect((await check(stranger.id, 'withdraw_funds', serviceKey, elevatedId)).json().reasons).toContain('step_up_required');
    expect((await check(member.id, 'withdraw_funds', serviceKey, 'not-a-session')).json()).toEqual(both);

    t.clock.advanceSeconds(301);
    expect((await permissions(other)).view_payments).toEqual(both);
    expect((await check(member.id, 'withdraw_funds', serviceKey, elevatedId)).json()).toEqual(both);

    // An elevated session that was signed out does not count.
    await elevate(other.token, 300);
    await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth(other.token) });
    expect((await check(member.id, 'withdraw_funds', serviceKey, elevatedId)).json()).toEqual(both);
  });

  it('allows payments once 2SV is on and the acting session stepped up', async () => {
    const member = await signUp(t);
    await verifyEmail(member);
    await verifyNumber(t, member);
    const { accounts, phone, sessions, clock } = t.app.verity;
    const gate = new GateService({ clock, accounts, phone, sessions, twoStep: { isEnabled: async (id) => id === member.id } });
    const id = await sessionId(member.token);
    expect(await gate.check(member.id, 'withdraw_funds', id)).toEqual({ allowed: false, reasons: ['step_up_required'] });
    await elevate(member.token, 300);
    expect(await gate.check(member.id, 'withdraw_funds', id)).toEqual({ allowed: true, reasons: [] });
    expect(await gate.check(member.id, 'withdraw_funds')).toEqual({ allowed: false, reasons: ['step_up_required'] });
  });

  it('reports locked and closed accounts', async () => {
    const locked = await signUp(t);
    await verifyEmail(locked);
    await verifyNumber(t, locked);
    await t.db.updateTable('accounts').set({ status: 'locked' }).where('id', '=', locked.id).execute();
    expect((await check(locked.id, 'post_job')).json()).toEqual({ allowed: false, reasons: ['account_locked'] });

    const closed = await signUp(t);
    await verifyNumber(t, closed);
    await t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(closed.token), payload: { password: closed.password } });
    expect((await check(closed.id, 'submit_proposal')).json()).toEqual({ allowed: false, reasons: ['account_closed'] });
  });

  it('answers 404 for an unknown account and 400 for an unknown action or malformed body', async () => {
    const member = await signUp(t);
    const unknown = await check('00000000-0000-4000-8000-000000000000', 'post_job');
    expect(unknown.statusCode).toBe(404);
    expect(problem(unknown).code).toBe('not_found');
    expect((await check('not-a-uuid', 'post_job')).statusCode).toBe(404);
    for (const payload of [
      { accountId: member.id, action: 'launch_rockets' },
      { accountId: 42, action: 'post_job' },
      { accountId: member.id },
      { accountId: member.id, action: 'post_job', extra: true },
      { accountId: member.id, action: 'post_job', sessionId: 7 },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/gate/check', headers: auth(serviceKey), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(problem(res).code).toBe('invalid_request');
    }
  });

  it('takes service keys only: no key, a wrong key or a member session get 401', async () => {
    const member = await signUp(t);
    expect((await t.app.inject({ method: 'POST', url: '/v1/gate/check', payload: { accountId: member.id, action: 'post_job' } })).statusCode).toBe(401);
    expect((await check(member.id, 'post_job', 'vk_wrong')).statusCode).toBe(401);
    expect((await check(member.id, 'post_job', member.token)).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/permissions' })).statusCode).toBe(401);
  });
});
