import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const NEW_PASSWORD = 'amber lantern over quiet meadow';

function forgot(login: string, ip = randomIp()) {
  return t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login }, remoteAddress: ip });
}
function signIn(login: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: randomIp() });
}
async function resetLink(email: string): Promise<string> {
  const mail = await lastMessage(t, email);
  expect(mail?.subject).toBe('Reset your Verity password');
  return linkToken(mail!.body, '/recover/password');
}
function reset(token: string, newPassword = NEW_PASSWORD) {
  return t.app.inject({ method: 'POST', url: `/v1/recovery/password/${token}`, payload: { newPassword } });
}

/** What a client can see of an answer, minus what differs on every request. */
function visible(res: Awaited<ReturnType<typeof forgot>>) {
  const { date: _d, 'x-request-id': _r, ...headers } = res.headers;
  return { status: res.statusCode, body: res.body, headers };
}

describe('forgot password', () => {
  it('answers known and unknown logins identically: body, headers, no cookies', async () => {
    const member = await signUp(t);
    const known = [await forgot(member.username), await forgot(member.email.toUpperCase())];
    const unknown = [await forgot('nobody-here'), await forgot('nobody@example.com')];
    for (const res of [...known, ...unknown]) expect(visible(res)).toEqual(visible(known[0]!));
    expect(known[0]!.statusCode).toBe(202);
    expect(known[0]!.json()).toEqual({ status: 'sent_if_exists' });
    expect(known[0]!.headers['set-cookie']).toBeUndefined();
  });

  it('mails a single-use link that sets the password, ends every session, and does not sign in', async () => {
    const member = await signUp(t);
    const other = (await signIn(member.username, member.password)).json().session.token as string;
    expect((await forgot(member.username)).statusCode).toBe(202);
    const mail = await lastMessage(t, member.email);
    expect(mail?.body).toMatch(/spam/i);
    expect(mail?.body).toMatch(/wasn't you/i);
    const token = linkToken(mail!.body, '/recover/password');

    const look = await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${token}` });
    expect(look.statusCode).toBe(200);
    expect(look.json()).toEqual({ twoStepRequired: false });

    const res = await reset(token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'password_reset' });
    expect(res.headers['set-cookie']).toBeUndefined();
    const notice = await lastMessage(t, member.email);
    expect(notice?.subject).toBe('Your Verity password was changed');
    expect(notice?.body).toMatch(/\/recover\/not-me\/[A-Za-z0-9_-]{40,}/);

    for (const session of [member.token, other]) expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(session) })).statusCode).toBe(401);
    expect((await signIn(member.username, member.password)).statusCode).toBe(401);
    expect((await signIn(member.username, NEW_PASSWORD)).statusCode).toBe(200);

    // Used: refused the same way as unknown.
    const again = await reset(token, 'another fine long passphrase');
    expect(again.statusCode).toBe(410);
    expect(problem(again).code).toBe('token_invalid');
  });

  it('refuses used, expired, tampered, unknown and older links alike with 410 token_invalid', async () => {
    const member = await signUp(t);
    await forgot(member.username);
    const older = await resetLink(member.email);
    await forgot(member.username);
    const newer = await resetLink(member.email);
    expect(newer).not.toBe(older);
    const tampered = newer.slice(0, -2) + (newer.endsWith('AA') ? 'BB' : 'AA');
    const bodies = new Set<string>();
    for (const token of [older, tampered, 'x'.repeat(43), 'short']) {
      for (const res of [await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${token}` }), await reset(token)]) {
        expect(res.statusCode, token).toBe(410);
        bodies.add(res.body);
      }
    }
    expect(bodies.size).toBe(1);

    t.clock.advanceSeconds(61 * 60);
    expect((await reset(newer)).statusCode).toBe(410);
    expect((await signIn(member.username, member.password)).statusCode).toBe(200);
  });

  it('keeps the link usable after a refused weak password, and changes nothing', async () => {
    const member = await signUp(t);
    await forgot(member.username);
    const token = await resetLink(member.email);
    const before = await t.db.selectFrom('accounts').select('password_hash').where('id', '=', member.id).executeTakeFirstOrThrow();
    const weak = await reset(token, 'password');
    expect(weak.statusCode).toBe(422);
    expect(problem(weak).code).toBe('password_too_weak');
    const after = await t.db.selectFrom('accounts').select('password_hash').where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(after.password_hash).toBe(before.password_hash);
    expect((await reset(token)).statusCode).toBe(200);
  });

  it('caps requests per login and per IP (429), for known and unknown logins alike', async () => {
    const member = await signUp(t);
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await forgot(member.username)).statusCode);
    expect(codes).toEqual([202, 202, 202, 202, 202, 429]);
    const unknownCodes: number[] = [];
    for (let i = 0; i < 6; i++) unknownCodes.push((await forgot('ghost-user-x')).statusCode);
    expect(unknownCodes).toEqual(codes);
    const ip = randomIp();
    const fromOneIp: number[] = [];
    for (let i = 0; i < 21; i++) fromOneIp.push((await forgot(`someone${i}`, ip)).statusCode);
    expect(fromOneIp.filter((c) => c === 429)).toHaveLength(1);
    const limited = await forgot('someone-else', ip);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('refuses bad input with 400 and queues nothing', async () => {
    const jobsBefore = await t.app.verity.jobs.pending();
    const outboxBefore = await countRows(t.db, 'outbox');
    for (const payload of [{}, { login: '' }, { login: 'a'.repeat(400) }, { login: 7 }, { login: 'x', extra: 1 }]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload, remoteAddress: randomIp() });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(problem(res).code).toBe('invalid_request');
    }
    expect(await t.app.verity.jobs.pending()).toBe(jobsBefore);
    expect(await countRows(t.db, 'outbox')).toBe(outboxBefore);
  });
});
