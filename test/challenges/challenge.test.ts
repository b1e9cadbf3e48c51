import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAccountById } from '../../src/accounts/queries.js';
import { noMeta } from '../../src/platform/audit.js';
import type { ChallengeView } from '../../src/challenges/service.js';
import { auth, createTestApp, lastMessage, problem, signUp, type SignedUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** A sign-in challenge as the sign-in under attack opens it (e-mail is then always offered). */
async function openLogin(member: SignedUp): Promise<ChallengeView> {
  const account = await findAccountById(t.db, member.id);
  return t.app.verity.challenges.open({ purpose: 'login', account: account!, reason: 'many_failures' }, noMeta);
}

function send(id: string, method = 'email') {
  return t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/send`, payload: { method } });
}

function verify(id: string, code: string, method = 'email') {
  return t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/verify`, payload: { method, code } });
}

async function sentCode(member: SignedUp): Promise<string> {
  const message = await lastMessage(t, member.email);
  const code = /code is (\d{6})/.exec(message?.body ?? '')?.[1];
  if (!code) throw new Error(`no code in ${message?.body}`);
  return code;
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('a sign-in challenge passed with an e-mailed code', () => {
  it('lists e-mail with a masked hint, lives 10 minutes and keeps only a hash of its id', async () => {
    const member = await signUp(t);
    const challenge = await openLogin(member);
    expect(challenge.purpose).toBe('login');
    expect(challenge.methods).toEqual([{ type: 'email', hint: expect.stringMatching(/^.•••.@example\.com$/) }]);
    expect(challenge.methods[0]!.hint).not.toContain(member.username.slice(1, -1));
    expect(Date.parse(challenge.expiresAt) - t.clock.now().getTime()).toBe(10 * 60 * 1000);
    expect(challenge.id.length).toBeGreaterThanOrEqual(43);
    const rows = await t.db.selectFrom('challenges').selectAll().where('account_id', '=', member.id).execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(challenge.id);
  });

  it('sends a code (202 resendAfter), refuses a resend too soon, and signs in with the code once', async () => {
    const member = await signUp(t);
    const { id } = await openLogin(member);
    const sent = await send(id);
    expect(sent.statusCode).toBe(202);
    expect(Date.parse(sent.json().resendAfter) - t.clock.now().getTime()).toBe(30_000);
    const again = await send(id);
    expect(again.statusCode).toBe(429);
    expect(problem(again).code).toBe('resend_too_soon');
    expect(Number(again.headers['retry-after'])).toBe(30);

    const code = await sentCode(member);
    const bad = await verify(id, wrong(code));
    expect(bad.statusCode).toBe(422);
    expect(problem(bad)).toMatchObject({ code: 'code_invalid', attemptsLeft: 4 });

    const ok = await verify(id, code);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'authenticated', account: { id: member.id } });
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(ok.json().session.token) });
    expect(me.statusCode).toBe(200);
    const audit = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'signin.succeeded').execute();
    expect(audit.map((a) => a.details)).toContainEqual(expect.objectContaining({ method: 'email' }));

    // Passed once: neither the code nor the challenge works again.
    const replay = await verify(id, code);
    expect(replay.statusCode).toBe(410);
    expect(problem(replay).code).toBe('challenge_expired');
  });

  it('two requests racing with the right code: exactly one signs in', async () => {
    const member = await signUp(t);
    const { id } = await openLogin(member);
    await send(id);
    const code = await sentCode(member);
    const results = await Promise.all([verify(id, code), verify(id, code), verify(id, code)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 410, 410]);
  });

  it('a challenge id used as a bearer token gets 401', async () => {
    const member = await signUp(t);
    const { id } = await openLogin(member);
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(id) });
    expect(res.statusCode).toBe(401);
  });

  it('expires after 10 minutes (410 challenge_expired), code and all', async () => {
    const member = await signUp(t);
    const { id } = await openLogin(member);
    await send(id);
    const code = await sentCode(member);
    t.clock.advanceSeconds(10 * 60);
    const res = await verify(id, code);
    expect(res.statusCode).toBe(410);
    expect(problem(res).code).toBe('challenge_expired');
    expect((await send(id)).statusCode).toBe(410);
  });

  it('refuses a method the challenge does not offer, and an unknown id, changing nothing', async () => {
    const member = await signUp(t);
    const { id } = await openLogin(member);
    const other = await t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/verify`, payload: { method: 'totp', code: '123456' } });
    expect(other.statusCode).toBe(400);
    expect(problem(other).code).toBe('invalid_request');
    const unknown = await verify('not-a-challenge-id', '123456');
    expect(unknown.statusCode).toBe(410);
  });
});

describe('the caps on guesses', () => {
  it('5 wrong tries per sent code, then 429 too_many_attempts until a new code', async () => {
    const member = await signUp(t);
    const { id } = await openLogin(member);
    await send(id);
    const code = await sentCode(member);
    for (let i = 4; i >= 0; i--) expect(problem(await verify(id, wrong(code))).attemptsLeft).toBe(i);
    const dead = await verify(id, code);
    expect(dead.statusCode).toBe(429);
    expect(problem(dead).code).toBe('too_many_attempts');
    expect(Number(dead.headers['retry-after'])).toBeGreaterThan(0);
    t.clock.advanceSeconds(30);
    expect((await send(id)).statusCode).toBe(202);
    expect((await verify(id, await sentCode(member))).statusCode).toBe(200);
  });

  it('10 failed verifications per challenge, whatever the codes: then even the right code is refused', async () => {
    const member = await signUp(t);
    const { id } = await openLogin(member);
    await send(id);
    for (let i = 0; i < 5; i++) await verify(id, wrong(await sentCode(member)));
    t.clock.advanceSeconds(30);
    await send(id);
    const second = await sentCode(member);
    for (let i = 0; i < 4; i++) await verify(id, wrong(second));
    const last = await verify(id, wrong(second));
    expect(problem(last)).toMatchObject({ code: 'code_invalid', attemptsLeft: 0 });
    const refused = await verify(id, second);
    expect(refused.statusCode).toBe(429);
    expect(problem(refused).code).toBe('too_many_attempts');
  });

  it('a new challenge buys no new guesses: the account cap holds across challenges', async () => {
    const member = await signUp(t);
    for (let c = 0; c < 2; c++) {
      const { id } = await openLogin(member);
      for (let round = 0; round < 2; round++) {
        t.clock.advanceSeconds(60);
        expect((await send(id)).statusCode).toBe(202);
        const code = await sentCode(member);
        for (let i = 0; i < 5; i++) expect((await verify(id, wrong(code))).statusCode).toBe(422);
      }
    }
    const fresh = await openLogin(member);
    await send(fresh.id);
    const res = await verify(fresh.id, await sentCode(member));
    expect(res.statusCode).toBe(429);
    expect(problem(res).code).toBe('too_many_attempts');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});
