import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { count, phMobile, phoneStatus, resend, startPhone } from './helpers.js';
import type { SignedUp } from '../helpers/app.js';

/** Caps on codes sent, against SMS pumping and against flooding one person's phone. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { PHONE_COUNTRY_DAILY_CAPS: 'DE=3', PHONE_ALLOWED_COUNTRIES: 'PH,DE' } });
});
afterAll(async () => {
  await t.close();
});

function expectCapped(res: LightMyRequestResponse, detail: RegExp) {
  expect(res.statusCode, res.body).toBe(429);
  const body = problem(res);
  expect(body.code).toBe('rate_limited');
  expect(body.detail).toMatch(detail);
  expect(body.retryAfter).toBeGreaterThan(0);
  expect(res.headers['retry-after']).toBe(String(body.retryAfter));
}

/** Moves the clock to the start of the next hour (the caps count in fixed windows). */
function nextHour() {
  const now = t.clock.now().getTime();
  t.clock.set(new Date(Math.ceil((now + 1) / 3_600_000) * 3_600_000));
}

/** Moves the clock to the start of the next UTC day (the daily caps count in fixed days). */
function nextDay() {
  const now = t.clock.now().getTime();
  t.clock.set(new Date(Math.ceil((now + 1) / 86_400_000) * 86_400_000));
}

/**
 * Asks for one more code the way a member can: waits out the cooldown, then resends, or
 * starts over on a fresh number once the verification has used its 5 sends.
 */
async function askForAnotherCode(member: SignedUp, ip: string) {
  const { pending } = await phoneStatus(t, member);
  if (pending?.resendIn) t.clock.advanceSeconds(pending.resendIn);
  return !pending || pending.sendsLeft === 0 ? startPhone(t, member, { phone: phMobile() }, ip) : resend(t, member, {}, ip);
}

describe('caps on codes sent', () => {
  it('caps codes to one number at 8 an hour and 20 a day, whichever accounts ask', async () => {
    nextHour();
    const victim = phMobile();
    for (let hour = 0; hour < 3; hour++) {
      const allowed = hour < 2 ? 8 : 4;
      for (let i = 0; i < allowed; i++) {
        expect((await startPhone(t, await signUp(t), { phone: victim })).statusCode).toBe(202);
      }
      const late = await signUp(t);
      const before = await count(t, 'outbox');
      expectCapped(await startPhone(t, late, { phone: victim }), hour < 2 ? /number .* last hour/ : /number .* today/);
      expect(await count(t, 'outbox')).toBe(before);
      nextHour();
    }
  });

  it('caps codes asked for by one account at 8 an hour', async () => {
    nextHour();
    const member = await signUp(t);
    const ip = randomIp();
    let sends = 0;
    let res = await startPhone(t, member, { phone: phMobile() }, ip);
    sends += 1;
    while (sends < 8) {
      t.clock.advanceSeconds((new Date(res.json().verification.resendAfter).getTime() - t.clock.now().getTime()) / 1000);
      res = sends % 5 === 0 ? await startPhone(t, member, { phone: phMobile() }, ip) : await resend(t, member, {}, ip);
      expect(res.statusCode, res.body).toBe(202);
      sends += 1;
    }
    t.clock.advanceSeconds(300);
    expectCapped(await resend(t, member, {}, ip), /You have asked for too many codes in the last hour/);
  });

  it('caps codes asked for from one IP at 20 an hour', async () => {
    nextHour();
    const ip = randomIp();
    for (let i = 0; i < 20; i++) {
      expect((await startPhone(t, await signUp(t), { phone: phMobile() }, ip)).statusCode).toBe(202);
    }
    expectCapped(await startPhone(t, await signUp(t), { phone: phMobile() }, ip), /from your network/);
    // Another network is not affected.
    expect((await startPhone(t, await signUp(t), { phone: phMobile() }, randomIp())).statusCode).toBe(202);
  });

  it('caps codes to one country per day (PHONE_COUNTRY_DAILY_CAPS), leaving other countries alone', async () => {
    const german = () => `+49151${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    for (let i = 0; i < 3; i++) {
      expect((await startPhone(t, await signUp(t), { phone: german() })).statusCode).toBe(202);
    }
    const res = await startPhone(t, await signUp(t), { phone: german() });
    expectCapped(res, /too many codes to Germany/);
    expect((await startPhone(t, await signUp(t), { phone: phMobile() })).statusCode).toBe(202);
  });

  it('sends codes only to numbers of PHONE_ALLOWED_COUNTRIES', async () => {
    const member = await signUp(t);
    const before = await count(t, 'phone_verifications');
    const res = await startPhone(t, member, { phone: '+33612345678' });
    expect(res.statusCode).toBe(422);
    expect(problem(res)).toMatchObject({ code: 'phone_country_unsupported', country: 'FR' });
    expect(problem(res).detail).toMatch(/France/);
    expect(await count(t, 'phone_verifications')).toBe(before);
  });

  it('limits verification starts per account, which bounds probing for numbers in use', async () => {
    nextHour();
    const member = await signUp(t);
    const answers: Array<{ status: number; limit: unknown }> = [];
    for (let i = 0; i < 20; i++) {
      const res = await startPhone(t, member, { phone: phMobile() });
      answers.push({ status: res.statusCode, limit: res.statusCode === 202 ? null : problem(res).limit });
    }
    // Each number has its own cooldown, so the first 8 send a code; then the hourly send cap
    // refuses each new number, but every start still counts against the start cap...
    expect(answers.slice(0, 8).every((a) => a.status === 202)).toBe(true);
    expect(answers.slice(8).every((a) => a.status === 429 && a.limit === 'phone_send_account_hour')).toBe(true);
    // ...which stops the 21st start before it can even ask who holds the number.
    const last = await startPhone(t, member, { phone: phMobile() });
    expect(problem(last).code).toBe('rate_limited');
    expect(problem(last).limit).toBeUndefined();
    expect(last.headers['retry-after']).toBeDefined();
  });

  it('caps codes asked for by one account at 20 a day, whatever the hour', async () => {
    nextDay();
    const member = await signUp(t);
    const ip = randomIp();
    for (let hour = 0; hour < 3; hour++) {
      const allowed = hour < 2 ? 8 : 4;
      for (let i = 0; i < allowed; i++) {
        const res = await askForAnotherCode(member, ip);
        expect(res.statusCode, `hour ${hour}, code ${i + 1}: ${res.body}`).toBe(202);
      }
      const before = await count(t, 'outbox');
      expectCapped(await askForAnotherCode(member, ip), hour < 2 ? /You have asked for too many codes in the last hour/ : /You have asked for too many codes today/);
      expect(await count(t, 'outbox')).toBe(before);
      nextHour();
    }
    // The next day counts afresh.
    nextDay();
    expect((await askForAnotherCode(member, ip)).statusCode).toBe(202);
  });

  it('caps codes asked for from one IP at 100 a day, whatever the hour', async () => {
    nextHour();
    const ip = randomIp();
    // 99 codes asked for from this network earlier today (the hourly cap of 20 spreads them out).
    for (let i = 0; i < 99; i++) await t.app.verity.limiter.hit('phone_send_ip_day', ip);
    expect((await startPhone(t, await signUp(t), { phone: phMobile() }, ip)).statusCode).toBe(202);
    expectCapped(await startPhone(t, await signUp(t), { phone: phMobile() }, ip), /from your network today/);
    expect((await startPhone(t, await signUp(t), { phone: phMobile() }, randomIp())).statusCode).toBe(202);
  });
});
