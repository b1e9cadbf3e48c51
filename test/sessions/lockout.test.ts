import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies } from '../../src/platform/ratelimit.js';
import { createTestApp, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const WINDOW = 15 * 60;

/** The lock counts per login and source: each test guesses from one address of its own. */
let source = randomIp();

function signIn(login: string, password: string, ip = source) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: ip });
}

/** Starts each test at the beginning of a fresh 15-minute window, so lock times are exact. */
function startOfNextWindow() {
  const ms = WINDOW * 1000;
  t.clock.set(new Date((Math.floor(t.clock.now().getTime() / ms) + 1) * ms));
  source = randomIp();
}

async function fail(login: string, times: number) {
  for (let i = 0; i < times; i++) {
    const res = await signIn(login, `wrong password number ${i}`);
    expect(res.statusCode, `failure ${i + 1}`).toBe(401);
  }
}

describe('temporary lock after 10 failures in 15 minutes', () => {
  it('locks the account with 423, saying when the lock ends, even for the right password', async () => {
    startOfNextWindow();
    const member = await signUp(t);
    await fail(member.username, 10);
    t.clock.advanceSeconds(60);
    const res = await signIn(member.username, member.password);
    expect(res.statusCode).toBe(423);
    const body = problem(res);
    expect(body.code).toBe('account_locked');
    expect(res.headers['content-type']).toContain('application/problem+json');
    const lockedUntil = new Date(body.lockedUntil as string);
    expect(lockedUntil.getTime()).toBeGreaterThan(t.clock.now().getTime());
    expect(lockedUntil.getTime() - t.clock.now().getTime()).toBeLessThanOrEqual(WINDOW * 1000);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBe(Math.ceil((lockedUntil.getTime() - t.clock.now().getTime()) / 1000));
    expect(body.retryAfter).toBe(retryAfter);
    // When, in words; the instant itself stays in lockedUntil and Retry-After.
    expect(body.detail).toBe(`Too many failed sign-ins. Try again in ${Math.ceil(retryAfter / 60)} minutes, or reset your password.`);
    expect(body.detail).not.toContain(lockedUntil.toISOString());
  });

  it('is never permanent: once the lock ends, the right password works', async () => {
    startOfNextWindow();
    const member = await signUp(t);
    await fail(member.username, 10);
    const locked = await signIn(member.username, member.password);
    expect(locked.statusCode).toBe(423);
    t.clock.set(new Date(problem(locked).lockedUntil as string));
    const res = await signIn(member.username, member.password);
    expect(res.statusCode).toBe(200);
  });

  it('counts failures in any 15 minutes, across the boundary of two windows', async () => {
    startOfNextWindow();
    const member = await signUp(t);
    t.clock.advanceSeconds(WINDOW - 30);
    await fail(member.username, 9);
    t.clock.advanceSeconds(60); // 30 s into the next window: the 9 still count in full
    await fail(member.username, 1);
    const res = await signIn(member.username, member.password);
    expect(res.statusCode).toBe(423);
    // The lock ends as the early failures age out, well before 15 minutes from now.
    const lockedUntil = Date.parse(problem(res).lockedUntil as string);
    expect(lockedUntil - t.clock.now().getTime()).toBeLessThan(WINDOW * 1000);
    t.clock.set(new Date(lockedUntil));
    expect((await signIn(member.username, member.password)).statusCode).toBe(200);
  });

  it('counts a login as typed, normalised: case, surrounding spaces and Unicode forms are one login', async () => {
    startOfNextWindow();
    const member = await signUp(t);
    await fail(member.username, 4);
    await fail(` ${member.username.toUpperCase()} `, 3);
    await fail(member.username.normalize('NFD'), 3);
    expect((await signIn(member.username, member.password)).statusCode).toBe(423);
    // The e-mail is another login: locking the username tells nothing about which e-mail is its.
    expect((await signIn(member.email, member.password)).statusCode).toBe(200);
  });

  it('does not lock after 9 failures, and a success starts the count again', async () => {
    startOfNextWindow();
    const member = await signUp(t);
    await fail(member.username, 9);
    expect((await signIn(member.username, member.password)).statusCode).toBe(200);
    await fail(member.username, 9);
    expect((await signIn(member.username, member.password)).statusCode).toBe(200);
  });

  it('does not lock other accounts', async () => {
    startOfNextWindow();
    const victim = await signUp(t);
    const other = await signUp(t);
    await fail(victim.username, 10);
    expect((await signIn(other.username, other.password)).statusCode).toBe(200);
  });

  it('locks unknown logins identically, so the lock reveals nothing', async () => {
    startOfNextWindow();
    const member = await signUp(t);
    const ghost = 'ghost-login-that-does-not-exist';
    await fail(member.username, 10);
    await fail(ghost, 10);
    const real = await signIn(member.username, 'any password at all');
    const fake = await signIn(ghost, 'any password at all');
    expect(fake.statusCode).toBe(423);
    expect(fake.body).toBe(real.body);
    expect(fake.headers['retry-after']).toBe(real.headers['retry-after']);
    t.clock.set(new Date(problem(fake).lockedUntil as string));
    expect((await signIn(ghost, 'any password at all')).statusCode).toBe(401);
  });

  it('audits each failure, and the start of the lock, with IP and time', async () => {
    startOfNextWindow();
    const member = await signUp(t);
    for (let i = 0; i < 10; i++) await signIn(member.username, `wrong ${i} password`, '10.77.0.1');
    expect((await signIn(member.username, member.password, '10.77.0.1')).statusCode).toBe(423);
    const rows = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', 'in', ['signin.failed', 'signin.locked']).execute();
    expect(rows.filter((r) => r.event === 'signin.failed')).toHaveLength(10);
    expect(rows.filter((r) => r.event === 'signin.locked')).toHaveLength(1);
    expect(rows.every((r) => r.ip === '10.77.0.1')).toBe(true);
    expect(rows.every((r) => r.created_at.getTime() === t.clock.now().getTime())).toBe(true);
  });

  it('counts the outcomes in verity_signin_total', async () => {
    const metrics = await (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/verity_signin_total\{outcome="locked"\} [1-9]/);
    expect(metrics).toMatch(/verity_signin_total\{outcome="failure"\} [1-9]/);
  });
});

describe('per-source limits', () => {
  const sourceCap = policies.signin_source_failures.limit;

  it('caps failures from one address across every login (password spraying) with 429, in words', async () => {
    startOfNextWindow();
    const ip = randomIp();
    for (let i = 0; i < sourceCap; i++) {
      const res = await signIn(`spray-target-${i}`, 'Winter2026!', ip);
      expect(res.statusCode, `attempt ${i + 1}`).toBe(401);
    }
    const limited = await signIn('spray-target-next', 'Winter2026!', ip);
    expect(limited.statusCode).toBe(429);
    expect(problem(limited).code).toBe('rate_limited');
    expect(problem(limited).detail).toMatch(/^Too many failed sign-ins from your network\. Try again in 1[56] minutes\.$/);
    expect(Number(limited.headers['retry-after'])).toBe(problem(limited).retryAfter);
    // Even the right password from that address waits; other addresses are unaffected.
    const member = await signUp(t);
    expect((await signIn(member.username, member.password, ip)).statusCode).toBe(429);
    expect((await signIn(member.username, member.password, randomIp())).statusCode).toBe(200);
    t.clock.advanceSeconds(WINDOW + 60);
    expect((await signIn(member.username, member.password, ip)).statusCode).toBe(200);
  });

  it('answers 429 once one address passes 60 attempts in 15 minutes, successful ones included', async () => {
    startOfNextWindow();
    const ip = randomIp();
    const member = await signUp(t);
    for (let i = 0; i < policies.signin_ip.limit; i++) expect((await signIn(member.username, member.password, ip)).statusCode, `attempt ${i + 1}`).toBe(200);
    const limited = await signIn(member.username, member.password, ip);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBe(WINDOW);
    expect((await signIn(member.username, member.password, randomIp())).statusCode).toBe(200);
  });
});
