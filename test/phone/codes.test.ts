import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, problem, signUp, type TestApp } from '../helpers/app.js';
import { lastCode, messagesTo, phMobile, phoneStatus, resend, startPhone, verify } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** A code that is not `code` (same length). */
function wrong(code: string): string {
  return code === '000000' ? '111111' : '000000';
}

describe('verification codes', () => {
  it('verifies the number with the 6-digit code sent by SMS, and stores only a keyed hash', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    const res = await startPhone(t, member, { phone: e164 });
    expect(res.statusCode).toBe(202);
    const { verification } = res.json();
    expect(verification).toMatchObject({ phone: e164, channel: 'sms', attemptsLeft: 5 });
    expect(new Date(verification.expiresAt).getTime() - t.clock.now().getTime()).toBe(600_000);
    expect(new Date(verification.resendAfter).getTime() - t.clock.now().getTime()).toBe(30_000);

    const [sms] = await messagesTo(t, e164);
    expect(sms?.channel).toBe('sms');
    const code = await lastCode(t, e164);
    expect(code).toMatch(/^\d{6}$/);
    const row = await t.db.selectFrom('phone_verifications').selectAll().where('id', '=', verification.id).executeTakeFirstOrThrow();
    expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.code_hash).not.toContain(code);
    // The outbox message that carries the code is kept on the verification row.
    const outbox = await t.db.selectFrom('outbox').select(['id', 'recipient', 'template']).where('id', '=', row.outbox_id!).executeTakeFirstOrThrow();
    expect(outbox).toMatchObject({ recipient: e164, template: 'phone-code' });

    const ok = await verify(t, member, code.slice(0, 3) + ' ' + code.slice(3));
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ phone: { number: e164, verified: true, verifiedAt: t.clock.now().toISOString() } });
    expect(await phoneStatus(t, member)).toMatchObject({ number: e164, verified: true, pending: null });

    // Used up: the same code does nothing a second time.
    const again = await verify(t, member, code);
    expect(again.statusCode).toBe(404);
    expect(problem(again).code).toBe('no_pending_verification');
  });

  it('refuses a wrong code with attemptsLeft, and kills the code after 5 wrong tries', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    await startPhone(t, member, { phone: e164 });
    const code = await lastCode(t, e164);
    for (let left = 4; left >= 0; left--) {
      const res = await verify(t, member, wrong(code));
      expect(res.statusCode).toBe(422);
      expect(problem(res).code).toBe('code_invalid');
      expect(problem(res).attemptsLeft).toBe(left);
    }
    // The right code no longer works either.
    const dead = await verify(t, member, code);
    expect(dead.statusCode).toBe(429);
    expect(problem(dead).code).toBe('too_many_attempts');
    expect(problem(dead).retryAfter).toBeGreaterThan(0);
    expect(dead.headers['retry-after']).toBeDefined();
    const row = await t.db.selectFrom('phone_verifications').select('attempts').where('account_id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.attempts).toBe(5);

    // A new code gets new tries.
    t.clock.advanceSeconds(30);
    expect((await resend(t, member)).statusCode).toBe(202);
    expect((await verify(t, member, await lastCode(t, e164))).statusCode).toBe(200);
  });

  it('counts concurrent guesses before comparing: never more than 5 are compared', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    await startPhone(t, member, { phone: e164 });
    const code = await lastCode(t, e164);
    const results = await Promise.all(Array.from({ length: 12 }, () => verify(t, member, wrong(code))));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 422)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('refuses a code that is not 6 digits without using a try', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    await startPhone(t, member, { phone: e164 });
    const res = await verify(t, member, '12ab');
    expect(res.statusCode).toBe(422);
    expect(problem(res)).toMatchObject({ code: 'code_invalid', attemptsLeft: 5 });
    for (const payload of [{ code: 123456 }, { code: '123456', extra: 1 }, {}, { code: 'x'.repeat(17) }]) {
      const bad = await t.app.inject({ method: 'POST', url: '/v1/me/phone/verify', headers: auth(member.token), payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const row = await t.db.selectFrom('phone_verifications').select('attempts').where('account_id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.attempts).toBe(0);
  });

  it('expires a code after 10 minutes', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    await startPhone(t, member, { phone: e164 });
    const code = await lastCode(t, e164);
    t.clock.advanceSeconds(600);
    const res = await verify(t, member, code);
    expect(res.statusCode).toBe(410);
    expect(problem(res).code).toBe('code_expired');
    expect((await phoneStatus(t, member)).pending).toMatchObject({ expired: true });
    expect(await t.db.selectFrom('phone_numbers').select('e164').where('account_id', '=', member.id).executeTakeFirst()).toBeUndefined();
  });

  it('makes a resent code replace the old one', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    await startPhone(t, member, { phone: e164 });
    const first = await lastCode(t, e164);
    t.clock.advanceSeconds(30);
    expect((await resend(t, member)).statusCode).toBe(202);
    const second = await lastCode(t, e164);
    if (first !== second) {
      const old = await verify(t, member, first);
      expect(old.statusCode).toBe(422);
    }
    expect((await verify(t, member, second)).statusCode).toBe(200);
  });

  it('grows the resend cooldown 30 s, 60 s, 120 s, 300 s, 300 s and allows 5 sends per verification', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    const ip = '10.9.9.9';
    const started = await startPhone(t, member, { phone: e164 }, ip);
    expect(started.statusCode).toBe(202);
    const waits: number[] = [];
    let resendAfter = new Date(started.json().verification.resendAfter);
    for (let send = 2; send <= 5; send++) {
      const wait = (resendAfter.getTime() - t.clock.now().getTime()) / 1000;
      waits.push(wait);
      t.clock.advanceSeconds(wait - 1);
      const early = await resend(t, member, {}, ip);
      expect(early.statusCode).toBe(429);
      expect(problem(early)).toMatchObject({ code: 'resend_too_soon', retryAfter: 1 });
      expect(early.headers['retry-after']).toBe('1');
      t.clock.advanceSeconds(1);
      const ok = await resend(t, member, { channel: send === 3 ? 'voice' : 'sms' }, ip);
      expect(ok.statusCode, ok.body).toBe(202);
      expect(ok.json().verification.sendsLeft).toBe(5 - send);
      resendAfter = new Date(ok.json().verification.resendAfter);
    }
    waits.push((resendAfter.getTime() - t.clock.now().getTime()) / 1000);
    expect(waits).toEqual([30, 60, 120, 300, 300]);
    const sent = await t.db.selectFrom('outbox').select('channel').where('recipient', '=', e164).orderBy('created_at').execute();
    const channels = sent.map((m) => m.channel);
    expect(channels).toEqual(['sms', 'sms', 'voice', 'sms', 'sms']);

    // The sixth code needs a new start; the cooldown still applies to starting over.
    t.clock.advanceSeconds(300);
    const sixth = await resend(t, member, {}, ip);
    expect(sixth.statusCode).toBe(429);
    expect(problem(sixth).code).toBe('rate_limited');
    expect(problem(sixth).retryAfter).toBeGreaterThan(0);
  });

  it('keeps the cooldown growing when the member starts over on the same number instead of resending', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    const first = await startPhone(t, member, { phone: e164 });
    const tooSoon = await startPhone(t, member, { phone: e164 });
    expect(tooSoon.statusCode).toBe(429);
    expect(problem(tooSoon).code).toBe('resend_too_soon');
    t.clock.advanceSeconds(30);
    const second = await startPhone(t, member, { phone: e164 });
    expect(second.statusCode).toBe(202);
    const wait = (new Date(second.json().verification.resendAfter).getTime() - t.clock.now().getTime()) / 1000;
    expect(wait).toBe(60);
    // The first verification was replaced: its code is gone.
    const rows = await t.db.selectFrom('phone_verifications').select(['id', 'status']).where('account_id', '=', member.id).execute();
    expect(rows.find((r) => r.id === first.json().verification.id)?.status).toBe('replaced');
  });

  it('answers 404 no_pending_verification to a resend or code with nothing pending', async () => {
    const member = await signUp(t);
    const r1 = await resend(t, member);
    expect(r1.statusCode).toBe(404);
    expect(problem(r1).code).toBe('no_pending_verification');
    const r2 = await verify(t, member, '123456');
    expect(problem(r2).code).toBe('no_pending_verification');
    const bad = await t.app.inject({ method: 'POST', url: '/v1/me/phone/resend', headers: auth(member.token), payload: { channel: 'fax' } });
    expect(bad.statusCode).toBe(400);
  });

  it('accepts a resend with no body at all', async () => {
    const member = await signUp(t);
    await startPhone(t, member, { phone: phMobile() });
    t.clock.advanceSeconds(30);
    const res = await t.app.inject({ method: 'POST', url: '/v1/me/phone/resend', headers: auth(member.token) });
    expect(res.statusCode, res.body).toBe(202);
  });
});
