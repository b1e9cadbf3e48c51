import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, problem, signUp, type TestApp, stepUp } from '../helpers/app.js';
import { count, lastCode, phMobile, startPhone, verify, verifyNumber } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const RECOVERY = [
  { rel: 'forgot_password', href: '/recover/password' },
  { rel: 'contact_support', href: '/support/contact' },
];

describe('one live account per phone number', () => {
  it('refuses to start verifying a number verified on another account, pointing to recovery', async () => {
    const first = await signUp(t);
    const e164 = await verifyNumber(t, first);
    const second = await signUp(t);
    const before = await count(t, 'outbox');
    const res = await startPhone(t, second, { phone: e164 });
    expect(res.statusCode).toBe(409);
    const body = problem(res);
    expect(body.code).toBe('phone_in_use');
    expect(body.recovery).toEqual(RECOVERY.map((r) => expect.objectContaining(r)));
    expect(body.detail).toMatch(/recover it/);
    expect(body.detail).toMatch(/close the extra account/);
    // No code went out, and the owner's number is untouched.
    expect(await count(t, 'outbox')).toBe(before);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(first.token) });
    expect(me.json().phone).toEqual({ number: e164, verified: true });
    // Agents can see the attempt (a likely duplicate account).
    const audit = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', second.id).where('event', '=', 'phone.in_use_refused').executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ number: e164, holderId: first.id });
  });

  it('finds the number whatever format it is typed in', async () => {
    const first = await signUp(t, { country: 'PH' });
    const e164 = await verifyNumber(t, first);
    const second = await signUp(t, { country: 'PH' });
    const national = `0${e164.slice(3, 6)} ${e164.slice(6, 9)} ${e164.slice(9)}`;
    const res = await startPhone(t, second, { phone: national });
    expect(problem(res).code).toBe('phone_in_use');
  });

  it('says so when the number is already verified on the same account', async () => {
    const member = await signUp(t);
    const e164 = await verifyNumber(t, member);
    await stepUp(t, member);
    const res = await startPhone(t, member, { phone: e164 });
    expect(res.statusCode).toBe(409);
    expect(problem(res).code).toBe('phone_already_verified');
  });

  it('lets exactly one of two accounts verifying one number at the same moment win', async () => {
    for (let round = 0; round < 3; round++) {
      const e164 = phMobile();
      const a = await signUp(t);
      const b = await signUp(t);
      expect((await startPhone(t, a, { phone: e164 })).statusCode).toBe(202);
      const codeA = await lastCode(t, e164);
      expect((await startPhone(t, b, { phone: e164 })).statusCode).toBe(202);
      const codeB = await lastCode(t, e164);
      const results = await Promise.all([verify(t, a, codeA), verify(t, b, codeB)]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      const loser = results.find((r) => r.statusCode === 409)!;
      expect(problem(loser).code).toBe('phone_in_use');
      expect(problem(loser).recovery).toBeDefined();
      const holders = await t.db.selectFrom('phone_numbers').select('account_id').where('e164', '=', e164).execute();
      expect(holders).toHaveLength(1);
      // The loser's verification is over; nothing stays pending for it.
      const loserId = results[0]!.statusCode === 409 ? a.id : b.id;
      const pending = await t.db.selectFrom('phone_verifications').select('status').where('account_id', '=', loserId).executeTakeFirstOrThrow();
      expect(pending.status).toBe('cancelled');
    }
  });

  it('releases the number when the account closes, so another account can verify it', async () => {
    const first = await signUp(t);
    const e164 = await verifyNumber(t, first);
    const close = await t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(first.token), payload: { password: first.password } });
    expect(close.statusCode).toBe(200);
    expect(await t.db.selectFrom('phone_numbers').select('e164').where('account_id', '=', first.id).executeTakeFirst()).toBeUndefined();
    const audit = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', first.id).where('event', '=', 'phone.released').executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ number: e164, reason: 'account_closed' });
    // The member is told by e-mail that the number left with the account.
    const mail = await lastMessage(t, first.email);
    expect(mail?.body).toContain('Your account was closed');
    expect(mail?.body).toContain(`The phone number ${e164} was released`);

    const second = await signUp(t);
    await verifyNumber(t, second, e164);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(second.token) });
    expect(me.json().phone).toEqual({ number: e164, verified: true });
  });

  it('cancels a verification in progress when the account closes', async () => {
    const member = await signUp(t);
    await startPhone(t, member, { phone: phMobile() });
    await t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(member.token), payload: { password: member.password } });
    const row = await t.db.selectFrom('phone_verifications').select('status').where('account_id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('cancelled');
  });

  it('changes a verified number to a new one, tells the member by e-mail and audits it', async () => {
    const member = await signUp(t);
    const oldNumber = await verifyNumber(t, member);
    expect((await lastMessage(t, member.email))?.subject).toBe('Your Verity phone number is verified');
    t.clock.advanceSeconds(60);
    await stepUp(t, member);
    const newNumber = await verifyNumber(t, member);
    const mail = await lastMessage(t, member.email);
    expect(mail?.body).toContain(`changed from ${oldNumber} to ${newNumber}`);
    const events = await t.db.selectFrom('audit_events').select(['event', 'details']).where('account_id', '=', member.id).where('event', 'like', 'phone.%').orderBy('created_at').execute();
    expect(events.map((e) => e.event)).toEqual(['phone.verification_started', 'phone.verified', 'phone.verification_started', 'phone.changed']);
    expect(events[3]!.details).toMatchObject({ number: newNumber, previous: oldNumber });
    // The old number is free again.
    const other = await signUp(t);
    expect((await startPhone(t, other, { phone: oldNumber })).statusCode).toBe(202);
  });

  it('removes the number on DELETE /v1/me/phone, frees it, e-mails and audits', async () => {
    const member = await signUp(t);
    const e164 = await verifyNumber(t, member);
    // Without a fresh check of the member, nothing is removed.
    const refused = await t.app.inject({ method: 'DELETE', url: '/v1/me/phone', headers: auth(member.token) });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'step_up_required', challenge: { purpose: 'step_up' } });
    await stepUp(t, member);
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/me/phone', headers: auth(member.token) });
    expect(res.statusCode).toBe(204);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(me.json().phone).toBeNull();
    expect((await lastMessage(t, member.email))?.body).toContain(`${e164} was removed`);
    const removed = await t.db.selectFrom('audit_events').select('event').where('account_id', '=', member.id).where('event', '=', 'phone.removed').execute();
    expect(removed).toHaveLength(1);
    // Nothing to remove: still 204, no second audit entry.
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/me/phone', headers: auth(member.token) })).statusCode).toBe(204);
    expect(await t.db.selectFrom('audit_events').select('event').where('account_id', '=', member.id).where('event', '=', 'phone.removed').execute()).toHaveLength(1);
  });
});
