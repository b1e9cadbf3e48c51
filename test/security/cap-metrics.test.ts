import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAccountById } from '../../src/accounts/queries.js';
import { noMeta } from '../../src/platform/audit.js';
import { RESEND_COOLDOWNS } from '../../src/platform/codes.js';
import { policies } from '../../src/platform/ratelimit.js';
import { createTestApp, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { startPhone } from '../phone/helpers.js';

/**
 * docs/SECURITY.md names a metric for every cap against SMS pumping and guessing: each hit
 * past a limit is counted in verity_rate_limit_exceeded_total by policy, whether the limiter
 * refused on its hit (the sign-in lock) or the caller refused on a peek (the phone send caps).
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { PHONE_COUNTRY_DAILY_CAPS: 'DE=1', PHONE_ALLOWED_COUNTRIES: 'PH,DE' } });
});
afterAll(async () => {
  await t.close();
});

async function exceeded(policy: string): Promise<number> {
  const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = body.split('\n').find((l) => l.startsWith(`verity_rate_limit_exceeded_total{policy="${policy}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('verity_rate_limit_exceeded_total', () => {
  it('counts the sign-in lock (10 failures for a login from one source), once per refused try', async () => {
    const member = await signUp(t);
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: `wrong password ${i}` }, remoteAddress: ip })).statusCode);
    }
    expect(statuses).toEqual([...Array<number>(10).fill(401), 423, 423]);
    expect(await exceeded('signin_failures')).toBe(2);
  });

  it('counts a code not sent for a country cap (PHONE_COUNTRY_DAILY_CAPS)', async () => {
    const german = () => `+49151${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    expect(await exceeded('phone_send_country_day')).toBe(0);
    expect((await startPhone(t, await signUp(t), { phone: german() })).statusCode).toBe(202);
    expect((await startPhone(t, await signUp(t), { phone: german() })).statusCode).toBe(429);
    expect(await exceeded('phone_send_country_day')).toBe(1);
  });

  it(`caps codes sent for challenges at ${policies.challenge_send_account.limit} an hour per account, across challenges, and counts the refusal`, async () => {
    // The cap counts in fixed hours: start at the top of one, so the run stays inside it.
    t.clock.set(new Date(Math.ceil((t.clock.now().getTime() + 1) / 3_600_000) * 3_600_000));
    const member = await signUp(t);
    const account = (await findAccountById(t.db, member.id))!;
    // A sign-in under attack always offers e-mail codes; each challenge sends at most 5.
    const open = () => t.app.verity.challenges.open({ purpose: 'login', account, reason: 'many_failures' }, noMeta);
    const send = (id: string) => t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/send`, payload: { method: 'email' } });
    const statuses: number[] = [];
    for (let c = 0; c < policies.challenge_send_account.limit / 5; c++) {
      const { id } = await open();
      for (let i = 0; i < 5; i++) {
        statuses.push((await send(id)).statusCode);
        t.clock.advanceSeconds(RESEND_COOLDOWNS[Math.min(i, RESEND_COOLDOWNS.length - 1)]!);
      }
    }
    expect(statuses).toEqual(Array<number>(policies.challenge_send_account.limit).fill(202));
    const refused = await send((await open()).id);
    expect(refused.statusCode).toBe(429);
    expect(problem(refused).code).toBe('rate_limited');
    expect(await exceeded('challenge_send_account')).toBe(1);
  });
});
