import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, signUp, stepUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';
import { lastCode, phMobile, startPhone, verify } from '../phone/helpers.js';
import { addAuthenticator, call } from '../twostep/helpers.js';
import { staff } from './helpers.js';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const ANSWER = 'Rue de la Paix forty two';

let t: TestApp;
let agent: SignedUp;
let member: SignedUp;
/** Every secret value the member's account has: none may reach an agent. */
const secrets: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  ({ agent } = await staff(t));
  member = await signUp(t);
  secrets.push(member.password, member.token);
  const signIn = await t.app.inject({
    method: 'POST',
    url: '/v1/sessions',
    payload: { login: member.username, password: member.password },
    headers: { 'user-agent': CHROME, 'cf-ipcountry': 'PH' },
    remoteAddress: '203.0.113.7',
  });
  expect(signIn.statusCode).toBe(200);
  const session = signIn.json().session.token as string;
  secrets.push(session);
  member = { ...member, token: session };

  const number = phMobile();
  expect((await startPhone(t, member, { phone: number })).statusCode).toBe(202);
  const phoneCode = await lastCode(t, number);
  secrets.push(phoneCode);
  expect((await verify(t, member, phoneCode)).statusCode).toBe(200);
  expect((await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_street', answer: ANSWER })).statusCode).toBe(200);
  secrets.push(ANSWER);
  await stepUp(t, member, async (challenge) => {
    const res = await call(t, member, 'POST', `/v1/challenges/${challenge.id}/verify`, { method: 'security_question', answer: ANSWER });
    expect(res.statusCode, res.body).toBe(200);
  });
  secrets.push(await addAuthenticator(t, member));
  const codes = await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
  expect(codes.statusCode, codes.body).toBe(200);
  secrets.push(...(codes.json().codes as string[]));
  // What is stored for them: hashes and sealed secrets.
  const account = await t.db.selectFrom('accounts').select('password_hash').where('id', '=', member.id).executeTakeFirstOrThrow();
  secrets.push(account.password_hash);
  for (const row of await t.db.selectFrom('sessions').select('token_hash').where('account_id', '=', member.id).execute()) secrets.push(row.token_hash);
  for (const row of await t.db.selectFrom('totp_credentials').select('secret_sealed').where('account_id', '=', member.id).execute()) secrets.push(row.secret_sealed);
  for (const row of await t.db.selectFrom('backup_codes').select('code_hash').where('account_id', '=', member.id).execute()) secrets.push(row.code_hash);
  for (const row of await t.db.selectFrom('security_answers').select('answer_hash').where('account_id', '=', member.id).execute()) secrets.push(row.answer_hash);
  for (const row of await t.db.selectFrom('phone_verifications').select('code_hash').where('account_id', '=', member.id).execute()) secrets.push(row.code_hash);
  for (const row of await t.db.selectFrom('one_time_tokens').select('token_hash').where('account_id', '=', member.id).execute()) secrets.push(row.token_hash);
  const verification = await lastMessage(t, member.email);
  const link = /token=([A-Za-z0-9_-]+)/.exec(verification?.body ?? '');
  if (link?.[1]) secrets.push(link[1]);
});
afterAll(() => t.close());

function leaked(text: string): string[] {
  return secrets.filter((s) => s.length >= 6 && text.includes(s));
}

describe("an account's security history for agents", () => {
  it('shows sign-ins with IP, country and browser, changes, sessions, age, 2SV kinds and earlier cases', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/agent/accounts/${member.id}`, headers: auth(agent.token) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.account).toMatchObject({ id: member.id, username: member.username, status: 'active', ageDays: 0, staffRoles: [] });
    expect(body.signIns[0]).toEqual({ at: expect.any(String), ip: '203.0.113.7', country: 'PH', browser: 'Chrome on Linux', method: null });
    expect(body.twoStep.enabled).toBe(true);
    expect(body.twoStep.methods.map((m: { type: string }) => m.type).sort()).toEqual(['backup_code', 'security_question', 'totp']);
    expect(body.twoStep.methods.find((m: { type: string }) => m.type === 'backup_code').remaining).toBe(10);
    expect(body.changes.map((c: { event: string }) => c.event)).toEqual(expect.arrayContaining(['phone.verified', 'two_step.method_added', 'account.created']));
    expect(body.sessions.some((s: { ip: string; browser: string }) => s.ip === '203.0.113.7' && s.browser === 'Chrome on Linux')).toBe(true);
    expect(body.phone.number).toMatch(/^\+63917/);
    expect(body.cases).toEqual([]);
    expect(body.dormant).toBe(false);
  });

  it('never carries a password hash, secret, code or token, in the JSON or on the page', async () => {
    expect(secrets.length).toBeGreaterThan(20);
    const json = await t.app.inject({ method: 'GET', url: `/v1/agent/accounts/${member.id}`, headers: auth(agent.token) });
    expect(leaked(json.body)).toEqual([]);
    expect(json.body).not.toMatch(/argon2|password_hash|secret|code_hash|token_hash/i);

    const visitor = new Visitor(t);
    visitor.cookies.set('verity_session', agent.token);
    const page = await visitor.get(`/agent/accounts/${member.id}`);
    expect(page.statusCode, page.body.slice(0, 300)).toBe(200);
    expect(page.body).toContain(member.username);
    expect(page.body).toContain('203.0.113.7');
    expect(leaked(page.body)).toEqual([]);
    expect(page.body).not.toMatch(/argon2/);
  });

  it('records who looked', async () => {
    const rows = await t.db.selectFrom('audit_events').selectAll().where('event', '=', 'agent.account_viewed').execute();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r.actor_id === agent.id && r.account_id === member.id)).toBe(true);
  });
});

describe('lock and unlock', () => {
  it('locks like "this wasn\'t me": sessions end, sign-in is 423, the member is told; unlock ends it', async () => {
    const lock = await t.app.inject({ method: 'POST', url: `/v1/agent/accounts/${member.id}/lock`, headers: auth(agent.token), payload: { reason: 'Member called: phone stolen' } });
    expect(lock.statusCode).toBe(200);
    expect(lock.json()).toEqual({ status: 'locked' });
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) })).statusCode).toBe(401);
    const signIn = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password } });
    expect(signIn.statusCode).toBe(423);
    expect(signIn.json().code).toBe('account_locked');
    expect((await lastMessage(t, member.email))?.subject).toBe('Our support team locked your Verity account');
    const locked = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', 'in', ['account.locked', 'agent.account_locked']).execute();
    expect(locked.map((r) => [r.event, r.actor_id])).toEqual(expect.arrayContaining([['account.locked', agent.id], ['agent.account_locked', agent.id]]));
    expect(locked.find((r) => r.event === 'agent.account_locked')!.details).toMatchObject({ reason: 'Member called: phone stolen' });

    const unlock = await t.app.inject({ method: 'POST', url: `/v1/agent/accounts/${member.id}/unlock`, headers: auth(agent.token), payload: { reason: 'Identity checked by video call' } });
    expect(unlock.json()).toEqual({ status: 'active' });
    const again = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password } });
    expect(again.statusCode).toBe(200);
    const unlocked = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'account.unlocked').execute();
    expect(unlocked.map((r) => r.actor_id)).toEqual([agent.id]);
  });

  it('needs a reason, and answers 404 for an unknown account', async () => {
    const blank = await t.app.inject({ method: 'POST', url: `/v1/agent/accounts/${member.id}/lock`, headers: auth(agent.token), payload: { reason: '' } });
    expect(blank.statusCode).toBe(400);
    const unknown = await t.app.inject({ method: 'POST', url: '/v1/agent/accounts/00000000-0000-4000-8000-000000000000/lock', headers: auth(agent.token), payload: { reason: 'x' } });
    expect(unknown.statusCode).toBe(404);
  });
});
