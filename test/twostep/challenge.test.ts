import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAccountById } from '../../src/accounts/queries.js';
import { noMeta } from '../../src/platform/audit.js';
import { auth, createTestApp, lastMessage, linkToken, problem, signUp, stepUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { messagesTo, verifyNumber } from '../phone/helpers.js';
import { call } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

interface Member extends SignedUp {
  totpSecret: string;
  backupCodes: string[];
  phone: string;
  authenticator: SoftAuthenticator;
}

/** A member with every two-step method on: app, text, call, e-mail, question, backup codes, passkey. */
async function memberWithEverything(): Promise<Member> {
  const member = await signUp(t);
  // Every method after the first needs a step-up: the password gives one while 2SV is still off.
  await stepUp(t, member);
  const mail = await lastMessage(t, member.email);
  await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token: linkToken(mail!.body, '/verify-email?token') } });
  const phone = await verifyNumber(t, member);
  const setup = (await call(t, member, 'POST', '/v1/me/two-step/totp')).json();
  expect((await call(t, member, 'POST', '/v1/me/two-step/totp/confirm', { setupId: setup.setupId, code: appCode(setup.secret) })).statusCode).toBe(200);
  for (const type of ['sms', 'voice', 'email']) expect((await call(t, member, 'POST', `/v1/me/two-step/${type}`)).statusCode).toBe(200);
  expect((await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' })).statusCode).toBe(200);
  const backupCodes = (await call(t, member, 'POST', '/v1/me/two-step/backup-codes')).json().codes as string[];
  const authenticator = new SoftAuthenticator('http://localhost:3000');
  const options = (await call(t, member, 'POST', '/v1/me/two-step/passkeys/options')).json();
  const added = await call(t, member, 'POST', '/v1/me/two-step/passkeys', { setupId: options.setupId, name: 'Laptop', response: authenticator.register(options.options) });
  expect(added.statusCode, added.body).toBe(201);
  // The confirming TOTP step is used; the next code comes from the next step.
  t.clock.advanceSeconds(30);
  return { ...member, totpSecret: setup.secret, backupCodes, phone, authenticator };
}

function appCode(secret: string): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: t.clock.now().getTime() });
}

async function openLogin(member: SignedUp) {
  const account = await findAccountById(t.db, member.id);
  return t.app.verity.challenges.open({ purpose: 'login', account: account!, reason: 'two_step' }, noMeta);
}

const send = (id: string, method: string) => t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/send`, payload: { method } });
const verify = (id: string, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/verify`, payload });

async function codeTo(to: string): Promise<string> {
  const [message] = await messagesTo(t, to);
  const digits = /(\d)(?:, )(\d), (\d), (\d), (\d), (\d)|\b(\d{6})\b/.exec(message?.body ?? '');
  if (!digits) throw new Error(`no code to ${to}`);
  return digits[7] ?? digits.slice(1, 7).join('');
}

describe('every two-step method passes one and the same challenge', () => {
  it('lists every method with its hint', async () => {
    const member = await memberWithEverything();
    const challenge = await openLogin(member);
    expect(challenge.methods).toEqual([
      { type: 'email', hint: expect.stringContaining('@example.com') },
      { type: 'totp' },
      { type: 'sms', hint: `•••• ${member.phone.slice(-2)}` },
      { type: 'voice', hint: `•••• ${member.phone.slice(-2)}` },
      { type: 'security_question', question: 'What was the name of your first pet?' },
      { type: 'backup_code', hint: '10 left' },
      { type: 'passkey', hint: 'Laptop' },
    ]);
  });

  it('passes with each method in turn, each on a fresh challenge of the same mechanism', async () => {
    const member = await memberWithEverything();
    const pass = async (method: string, answer: (id: string) => Promise<Record<string, unknown>>) => {
      const { id } = await openLogin(member);
      const res = await verify(id, { method, ...(await answer(id)) });
      expect(res.statusCode, `${method}: ${res.body}`).toBe(200);
      expect(res.json().status).toBe('authenticated');
      const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(res.json().session.token) });
      expect(me.json().id).toBe(member.id);
      // Passed once: the same challenge cannot be passed again.
      expect((await verify(id, { method, ...(await answer(id).catch(() => ({}))) })).statusCode).toBe(410);
      const passed = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', member.id).where('event', '=', 'signin.succeeded').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
      expect(passed.details.method).toBe(method);
      t.clock.advanceSeconds(30);
    };
    await pass('totp', async () => ({ code: appCode(member.totpSecret) }));
    await pass('sms', async (id) => {
      expect((await send(id, 'sms')).statusCode).toBe(202);
      return { code: await codeTo(member.phone) };
    });
    await pass('voice', async (id) => {
      expect((await send(id, 'voice')).statusCode).toBe(202);
      const [call] = await messagesTo(t, member.phone);
      expect(call?.channel).toBe('voice');
      return { code: await codeTo(member.phone) };
    });
    await pass('email', async (id) => {
      expect((await send(id, 'email')).statusCode).toBe(202);
      return { code: /code is (\d{6})/.exec((await lastMessage(t, member.email))!.body)![1] };
    });
    await pass('security_question', async () => ({ answer: ' REX! ' }));
    await pass('backup_code', async () => ({ code: member.backupCodes[0] }));
    await pass('passkey', async (id) => {
      const res = await send(id, 'passkey');
      expect(res.statusCode).toBe(200);
      return { response: member.authenticator.authenticate(res.json().options) };
    });
  });

  it('every method, passkeys included, passes a step-up of the same mechanism too', async () => {
    const member = await memberWithEverything();
    const stepUpWith = async (method: string, answer: (id: string) => Promise<Record<string, unknown>>) => {
      t.clock.advanceSeconds(10 * 60 + 30); // the last step-up is over, and a new TOTP step begins
      const asked = await t.app.inject({ method: 'POST', url: '/v1/me/step-up', headers: auth(member.token) });
      const { id, methods } = asked.json().challenge as { id: string; methods: Array<{ type: string }> };
      expect(methods.map((m) => m.type)).toEqual(['email', 'totp', 'sms', 'voice', 'security_question', 'backup_code', 'passkey']);
      const res = await t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/verify`, headers: auth(member.token), payload: { method, ...(await answer(id)) } });
      expect(res.statusCode, `${method}: ${res.body}`).toBe(200);
      expect(res.json().elevatedUntil).toBe(new Date(t.clock.now().getTime() + 600_000).toISOString());
    };
    const sendAs = (id: string, method: string) => t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/send`, headers: auth(member.token), payload: { method } });
    await stepUpWith('totp', async () => ({ code: appCode(member.totpSecret) }));
    await stepUpWith('sms', async (id) => {
      expect((await sendAs(id, 'sms')).statusCode).toBe(202);
      return { code: await codeTo(member.phone) };
    });
    await stepUpWith('voice', async (id) => {
      expect((await sendAs(id, 'voice')).statusCode).toBe(202);
      return { code: await codeTo(member.phone) };
    });
    await stepUpWith('email', async (id) => {
      expect((await sendAs(id, 'email')).statusCode).toBe(202);
      return { code: /code is (\d{6})/.exec((await lastMessage(t, member.email))!.body)![1] };
    });
    await stepUpWith('security_question', async () => ({ answer: 'rex' }));
    await stepUpWith('backup_code', async () => ({ code: member.backupCodes[5] }));
    await stepUpWith('passkey', async (id) => ({ response: member.authenticator.authenticate((await sendAs(id, 'passkey')).json().options) }));
  });

  it('switching methods keeps one count of wrong tries, then any method still passes', async () => {
    const member = await memberWithEverything();
    const { id } = await openLogin(member);
    const tries = [
      { method: 'totp', code: '000000' === appCode(member.totpSecret) ? '111111' : '000000' },
      { method: 'security_question', answer: 'Fido' },
      { method: 'backup_code', code: 'aaaaa-aaaaa' },
      { method: 'totp', code: '999999' === appCode(member.totpSecret) ? '888888' : '999999' },
    ];
    const left: number[] = [];
    for (const attempt of tries) {
      const res = await verify(id, attempt);
      expect(res.statusCode).toBe(422);
      expect(problem(res).code).toBe(attempt.method === 'security_question' ? 'answer_invalid' : 'code_invalid');
      left.push(problem(res).attemptsLeft as number);
    }
    expect(left).toEqual([9, 8, 7, 6]);
    // A passkey assertion made for another challenge is a wrong try here too.
    const other = await openLogin(member);
    const foreign = member.authenticator.authenticate((await send(other.id, 'passkey')).json().options);
    const refused = await verify(id, { method: 'passkey', response: foreign });
    expect(refused.statusCode).toBe(422);
    expect(problem(refused).code).toBe('passkey_invalid');
    expect(problem(refused).attemptsLeft).toBe(5);
    const ok = await verify(id, { method: 'backup_code', code: member.backupCodes[1] });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('a backup code shared by two simultaneous sign-ins wins once', async () => {
    const member = await memberWithEverything();
    const [a, b] = [await openLogin(member), await openLogin(member)];
    const results = await Promise.all([verify(a.id, { method: 'backup_code', code: member.backupCodes[2] }), verify(b.id, { method: 'backup_code', code: member.backupCodes[2] })]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 422]);
  });

  it('a TOTP code used at one challenge is refused at another (replay)', async () => {
    const member = await memberWithEverything();
    const code = appCode(member.totpSecret);
    const first = await openLogin(member);
    expect((await verify(first.id, { method: 'totp', code })).statusCode).toBe(200);
    const second = await openLogin(member);
    const replay = await verify(second.id, { method: 'totp', code });
    expect(replay.statusCode).toBe(422);
    expect(problem(replay).code).toBe('code_invalid');
  });

  it('offers only what the account has on, and nothing used up', async () => {
    const member = await signUp(t);
    await stepUp(t, member);
    const codes = (await call(t, member, 'POST', '/v1/me/two-step/backup-codes')).json().codes as string[];
    await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    for (const code of codes) expect(await t.app.verity.twoStep.backupCodes.use(member.id, code)).toBe(true);
    const challenge = await openLogin(member);
    expect(challenge.methods.map((m) => m.type)).toEqual(['security_question']);
    const res = await verify(challenge.id, { method: 'totp', code: '123456' });
    expect(res.statusCode).toBe(400);
  });
});

describe('e-mail codes at a challenge', () => {
  async function open(member: SignedUp, purpose: 'login' | 'step_up' | 'recovery', reason: string) {
    const account = await findAccountById(t.db, member.id);
    const session = await t.db.selectFrom('sessions').select('id').where('account_id', '=', member.id).executeTakeFirstOrThrow();
    return t.app.verity.challenges.open({ purpose, account: account!, reason, sessionId: purpose === 'step_up' ? session.id : null }, noMeta);
  }
  const types = async (member: SignedUp, purpose: 'login' | 'step_up' | 'recovery', reason: string) => (await open(member, purpose, reason)).methods.map((m) => m.type);

  it('stand in for the methods a member chose only when the member chose e-mail', async () => {
    const member = await signUp(t);
    // Not confirmed yet: no step-up code goes to an address nobody has shown is theirs.
    expect(await types(member, 'step_up', 'step_up_without_two_step')).toEqual(['password']);
    const mail = await lastMessage(t, member.email);
    await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token: linkToken(mail!.body, '/verify-email?token') } });
    await stepUp(t, member);
    // No 2SV: a step-up can be passed by e-mail or with the password; a sign-in under attack by e-mail.
    expect(await types(member, 'step_up', 'step_up_without_two_step')).toEqual(['email', 'password']);
    expect(await types(member, 'login', 'many_failures')).toEqual(['email']);
    await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    // 2SV on without e-mail codes: the inbox is not a second step, at a sign-in or a step-up.
    expect(await types(member, 'login', 'two_step')).toEqual(['security_question']);
    expect(await types(member, 'step_up', 'step_up')).toEqual(['security_question']);
    // Not under attack either: a thief with the password and the mailbox could set that off and skip 2SV.
    expect(await types(member, 'login', 'many_failures')).toEqual(['security_question']);
    await call(t, member, 'POST', '/v1/me/two-step/email');
    expect(await types(member, 'login', 'two_step')).toEqual(['email', 'security_question']);
    expect(await types(member, 'step_up', 'step_up')).toEqual(['email', 'security_question']);
    expect(await types(member, 'login', 'many_failures')).toEqual(['email', 'security_question']);
  });

  it('are never offered after a reset link, which came to the same inbox', async () => {
    const member = await signUp(t);
    const mail = await lastMessage(t, member.email);
    await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token: linkToken(mail!.body, '/verify-email?token') } });
    await stepUp(t, member);
    expect((await call(t, member, 'POST', '/v1/me/two-step/email')).statusCode).toBe(200);
    await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    expect(await types(member, 'recovery', 'password_reset:x')).toEqual(['security_question']);
    expect(await types(member, 'login', 'two_step')).toEqual(['email', 'security_question']);
  });
});

describe('sign-in in two steps', () => {
  it('with 2SV on, the password alone gives a challenge, not a session; the authenticator app then signs in', async () => {
    const member = await signUp(t);
    const setup = (await call(t, member, 'POST', '/v1/me/two-step/totp')).json();
    await call(t, member, 'POST', '/v1/me/two-step/totp/confirm', { setupId: setup.setupId, code: appCode(setup.secret) });
    t.clock.advanceSeconds(30);
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: '10.9.9.9' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe('two_step_required');
    expect(res.json().session).toBeUndefined();
    const { id, methods } = res.json().challenge;
    expect(methods.map((m: { type: string }) => m.type)).toEqual(['totp']);
    // The challenge id is no session.
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(id) })).statusCode).toBe(401);
    const passed = await verify(id, { method: 'totp', code: appCode(setup.secret) });
    expect(passed.statusCode, passed.body).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(passed.json().session.token) })).json().twoStep).toEqual({ enabled: true, methods: ['totp'] });
  });
});
