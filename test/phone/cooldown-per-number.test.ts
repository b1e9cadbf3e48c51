import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { lastCode, phMobile, phoneStatus, resend, startPhone, verify } from './helpers.js';

/** The resend cooldown belongs to the number being verified, not to the account. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function waitOf(res: { json(): { verification: { resendAfter: string } } }): number {
  return (new Date(res.json().verification.resendAfter).getTime() - t.clock.now().getTime()) / 1000;
}

describe('resend cooldown per number', () => {
  it('lets a member correct a mistyped number at once, and the right number gets a fresh 30 s cooldown', async () => {
    const member = await signUp(t);
    const typo = phMobile();
    const right = phMobile();
    expect((await startPhone(t, member, { phone: typo })).statusCode).toBe(202);
    t.clock.advanceSeconds(1);
    const corrected = await startPhone(t, member, { phone: right });
    expect(corrected.statusCode, corrected.body).toBe(202);
    expect(waitOf(corrected)).toBe(30);
    // The code for the corrected number works; the typo's verification is gone.
    const { pending } = await phoneStatus(t, member);
    expect(pending.phone).toBe(right);
    expect((await verify(t, member, await lastCode(t, right))).statusCode).toBe(200);
  });

  it('still holds the number whose code was just sent, even after switching away and back', async () => {
    const member = await signUp(t);
    const [a, b] = [phMobile(), phMobile()];
    expect((await startPhone(t, member, { phone: a })).statusCode).toBe(202);
    t.clock.advanceSeconds(5);
    expect((await startPhone(t, member, { phone: b })).statusCode).toBe(202);
    t.clock.advanceSeconds(5);
    const back = await startPhone(t, member, { phone: a });
    expect(back.statusCode).toBe(429);
    expect(problem(back)).toMatchObject({ code: 'resend_too_soon', retryAfter: 20 });
    expect(problem(back).detail).toBe('Please wait 20 seconds before asking for another code.');
    // Once a's cooldown is over, going back to it continues its streak (30 s, then 60 s).
    t.clock.advanceSeconds(20);
    const again = await startPhone(t, member, { phone: a });
    expect(again.statusCode).toBe(202);
    expect(waitOf(again)).toBe(60);
    // A resend for the current number keeps to its own cooldown.
    expect(problem(await resend(t, member)).code).toBe('resend_too_soon');
  });

  it('still counts every number against the account\'s hourly cap', async () => {
    const member = await signUp(t);
    const ip = randomIp();
    for (let i = 0; i < 8; i++) expect((await startPhone(t, member, { phone: phMobile() }, ip)).statusCode).toBe(202);
    const ninth = await startPhone(t, member, { phone: phMobile() }, ip);
    expect(ninth.statusCode).toBe(429);
    expect(problem(ninth)).toMatchObject({ code: 'rate_limited', limit: 'phone_send_account_hour' });
  });
});
