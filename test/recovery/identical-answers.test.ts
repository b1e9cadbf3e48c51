import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, linkToken, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { phMobile, verifyNumber } from '../phone/helpers.js';

/**
 * No enumeration (issue 13, item 5): what a client receives — status, body, every header,
 * cookies — is the same for a known and an unknown login, and for a used, expired and unknown
 * link. Only what differs on every request anyway (date, request id, a new ticket's id) is
 * set aside. The time it takes is measured by `npm run bench -- gaps`.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload?: object) => t.app.inject({ method: 'POST', url, ...(payload ? { payload } : {}), remoteAddress: randomIp() });

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** A support ticket's key: 256 random bits, base64url, new on every request. */
const KEY = /"key":"[A-Za-z0-9_-]{43}"/g;

/** What a client can see of an answer, minus what differs on every request. */
function visible(res: LightMyRequestResponse) {
  const { date: _date, 'x-request-id': _id, ...headers } = res.headers;
  return { status: res.statusCode, body: res.body.replace(UUID, '<id>').replace(KEY, '"key":"<key>"'), headers, cookies: res.cookies };
}

function expectAlike(answers: LightMyRequestResponse[]) {
  const [first, ...rest] = answers.map(visible);
  for (const other of rest) expect(other).toEqual(first);
  expect(first!.cookies).toEqual([]);
  expect(first!.headers['set-cookie']).toBeUndefined();
}

describe('answers that must not tell known from unknown', () => {
  it('forgot password: username, e-mail and verified phone of a live account, and logins nobody has', async () => {
    const member = await signUp(t);
    const phone = await verifyNumber(t, member);
    const closed = await signUp(t);
    await t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(closed.token), payload: { password: closed.password } });
    expectAlike([
      await post('/v1/recovery/password', { login: member.username }),
      await post('/v1/recovery/password', { login: member.email }),
      await post('/v1/recovery/password', { login: phone }),
      await post('/v1/recovery/password', { login: closed.username }),
      await post('/v1/recovery/password', { login: 'no-such-member' }),
      await post('/v1/recovery/password', { login: 'nobody@example.com' }),
      await post('/v1/recovery/password', { login: phMobile() }),
    ]);
  });

  it('anonymous compromise report: a known and an unknown login (the ticket id aside)', async () => {
    const member = await signUp(t);
    const report = (login: string) => post('/v1/recovery/compromised', { login, contactEmail: 'worried@example.org', details: 'Strange proposals' });
    const answers = [await report(member.username), await report(member.email), await report('no-such-member'), await report('nobody@example.com')];
    expectAlike(answers);
    expect(answers[0]!.statusCode).toBe(202);
    expect(new Set(answers.map((a) => a.json().ticketId)).size).toBe(answers.length);
  });

  it('"this wasn\'t me": used, expired, tampered and unknown links', async () => {
    const member = await signUp(t);
    const changePassword = async (from: string, to: string) => {
      expect((await t.app.inject({ method: 'POST', url: '/v1/me/password', headers: auth(member.token), payload: { password: from, newPassword: to } })).statusCode).toBe(200);
      return linkToken((await lastMessage(t, member.email))!.body, '/recover/not-me');
    };
    const expiring = await changePassword(member.password, 'first replacement passphrase here');
    const used = await changePassword('first replacement passphrase here', 'second replacement passphrase here');
    expect((await post(`/v1/recovery/not-me/${used}`)).statusCode).toBe(200);
    t.clock.advanceSeconds(7 * 24 * 3600 + 1);
    const answers = [
      await post(`/v1/recovery/not-me/${used}`),
      await post(`/v1/recovery/not-me/${expiring}`),
      await post(`/v1/recovery/not-me/${expiring.slice(0, -1)}${expiring.endsWith('A') ? 'B' : 'A'}`),
      await post(`/v1/recovery/not-me/${'x'.repeat(43)}`),
    ];
    expectAlike(answers);
    expect(answers[0]!.statusCode).toBe(410);
    expect(answers[0]!.json().code).toBe('token_invalid');
  });

  it('security reset request: a known and an unknown login (the case id aside)', async () => {
    const member = await signUp(t);
    // A contact address each (of one length): requests are also counted per contact address.
    const request = (login: string, n: number) =>
      post('/v1/recovery/security-reset', { login, fullName: 'Maria Santos', contactEmail: `lost-phone${n}@contact.test`, details: 'I lost my phone on the bus and cannot sign in.' });
    const answers = [await request(member.username, 1), await request(member.email, 2), await request('no-such-member', 3), await request('nobody@example.com', 4)];
    expectAlike(answers);
    expect(answers[0]!.statusCode).toBe(202);
    expect(answers[0]!.json().status).toBe('pending_review');
  });

  it('support ticket: about a known login, an unknown one, and none (ticket id and key aside)', async () => {
    const member = await signUp(t);
    const ticket = (login?: string) =>
      post('/v1/support/tickets', {
        email: 'asker@example.org',
        name: 'Ana Reyes',
        category: 'account_recovery',
        subject: 'I lost access to my e-mail',
        message: 'My old work address is gone, and I cannot reset my password.',
        ...(login ? { login } : {}),
      });
    const answers = [await ticket(member.username), await ticket(member.email), await ticket('no-such-member'), await ticket('nobody@example.com'), await ticket()];
    expectAlike(answers);
    expect(answers[0]!.statusCode).toBe(201);
    const keys = answers.map((a) => a.json().key as string);
    expect(new Set(keys).size).toBe(answers.length);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('sign-in: a wrong password for a known login and any password for an unknown one', async () => {
    const member = await signUp(t);
    const signIn = (login: string) => post('/v1/sessions', { login, password: 'not the right password' });
    const answers = [await signIn(member.username), await signIn(member.email), await signIn('no-such-member'), await signIn('nobody@example.com')];
    expectAlike(answers);
    expect(answers[0]!.statusCode).toBe(401);
  });
});
