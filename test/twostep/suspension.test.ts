import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noMeta } from '../../src/platform/audit.js';
import { auth, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { addAuthenticator, appCode, auditEvents, call, overview } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const HOUR = 3600_000;
const NEW_PASSWORD = 'lanterns drifting down a quiet canal';

type Challenge = { id: string; methods: Array<{ type: string }> };

function verify(challenge: Challenge, payload: Record<string, unknown>, token?: string) {
  return t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, headers: token ? auth(token) : {}, payload });
}

/** Signs in; answers a two-step challenge with `answer` when one is asked. Returns the session token. */
async function signIn(who: SignedUp, answer?: (c: Challenge) => Record<string, unknown>): Promise<{ token: string; challenge?: Challenge }> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: who.username, password: who.password }, remoteAddress: randomIp() });
  expect(res.statusCode, res.body).toBe(200);
  if (res.json().status === 'authenticated') return { token: res.json().session.token };
  const challenge = res.json().challenge as Challenge;
  if (!answer) return { token: '', challenge };
  const passed = await verify(challenge, answer(challenge));
  expect(passed.statusCode, passed.body).toBe(200);
  return { token: passed.json().session.token, challenge };
}

async function backupCodes(who: SignedUp): Promise<string[]> {
  const res = await call(t, who, 'POST', '/v1/me/two-step/backup-codes');
  expect(res.statusCode, res.body).toBe(200);
  return res.json().codes as string[];
}

/** "This wasn't me" from the newest security e-mail. */
async function notMe(who: SignedUp): Promise<void> {
  const token = linkToken((await lastMessage(t, who.email))!.body, '/recover/not-me');
  expect((await t.app.inject({ method: 'POST', url: `/v1/recovery/not-me/${token}` })).statusCode).toBe(200);
}

/** The reset after the lock: the link, the recovery check (when 2SV counts as on), the new password. */
async function reset(who: SignedUp, answer?: (c: Challenge) => Record<string, unknown>): Promise<Challenge | undefined> {
  await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login: who.username }, remoteAddress: randomIp() });
  const link = linkToken((await lastMessage(t, who.email))!.body, '/recover/password');
  const look = (await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${link}` })).json() as { twoStepRequired: boolean; challenge?: Challenge };
  if (look.twoStepRequired) {
    expect(answer, 'a two-step check was asked').toBeDefined();
    expect((await verify(look.challenge!, answer!(look.challenge!))).statusCode).toBe(200);
  }
  const done = await t.app.inject({ method: 'POST', url: `/v1/recovery/password/${link}`, payload: { newPassword: NEW_PASSWORD } });
  expect(done.statusCode, done.body).toBe(200);
  who.password = NEW_PASSWORD;
  return look.challenge;
}

const types = (c: Challenge | undefined) => c?.methods.map((m) => m.type) ?? [];

describe('methods set up in the 24 hours before a lock for compromise', () => {
  it('suspends an app added 2 h before "this wasn\'t me": not offered, refused at the sign-in challenge, shown as suspended', async () => {
    const member = await signUp(t);
    const codes = await backupCodes(member);
    t.clock.advance(28 * HOUR);
    const fresh = { ...member, token: (await signIn(member, () => ({ method: 'backup_code', code: codes[0]! }))).token };
    // The step-up the settings ask for once 2SV is on, passed with a backup code.
    const step = (await call(t, fresh, 'POST', '/v1/me/step-up')).json().challenge as Challenge;
    expect((await verify(step, { method: 'backup_code', code: codes[1]! }, fresh.token)).statusCode).toBe(200);
    const secret = await addAuthenticator(t, fresh);
    t.clock.advance(2 * HOUR);
    await notMe(member);

    const events = await auditEvents(t, member.id);
    expect(events.find((e) => e.event === 'two_step.methods_suspended')?.details).toMatchObject({ types: ['totp'], reason: 'not_me_link' });
    expect((await lastMessage(t, member.email))?.body).toMatch(/on hold/);

    const recovery = await reset(member, () => ({ method: 'backup_code', code: codes[2]! }));
    expect(types(recovery)).toEqual(['backup_code']);

    const { challenge } = await signIn(member);
    expect(types(challenge)).toEqual(['backup_code']);
    const refused = await verify(challenge!, { method: 'totp', code: appCode(t, secret) });
    expect(refused.statusCode).toBe(400);
    expect(problem(refused).detail).toMatch(/backup_code/);
    const passed = await verify(challenge!, { method: 'backup_code', code: codes[3]! });
    expect(passed.statusCode).toBe(200);
    const session = { ...member, token: passed.json().session.token as string };

    const view = await overview(t, session);
    expect(view.enabled).toBe(true);
    expect(view.methods.map((m) => [m.type, (m as { suspended?: boolean }).suspended])).toEqual([['backup_code', false], ['totp', true]]);
    expect(view.recommendation?.code).toBe('confirm_suspended');
    const me = (await call(t, session, 'GET', '/v1/me')).json();
    expect(me.twoStep).toEqual({ enabled: true, methods: ['backup_code'] });

    // Confirming needs a fresh step-up, and the step-up cannot use the suspended app.
    const unconfirmed = await call(t, session, 'POST', '/v1/me/two-step/suspended/totp/confirm');
    expect(unconfirmed.statusCode).toBe(403);
    expect(problem(unconfirmed).code).toBe('step_up_required');
    const stepUp = problem(unconfirmed).challenge as Challenge;
    expect(types(stepUp)).toEqual(['backup_code']);
    expect((await verify(stepUp, { method: 'backup_code', code: codes[4]! }, session.token)).statusCode).toBe(200);
    const confirmed = await call(t, session, 'POST', '/v1/me/two-step/suspended/totp/confirm');
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json().methods.find((m: { type: string }) => m.type === 'totp').suspended).toBe(false);
    expect((await call(t, session, 'POST', '/v1/me/two-step/suspended/totp/confirm')).statusCode).toBe(404);
    expect((await lastMessage(t, member.email))?.body).toMatch(/can be used again/);
    expect((await auditEvents(t, member.id)).map((e) => e.event)).toContain('two_step.method_confirmed');

    // The app works again at the next sign-in.
    t.clock.advance(60_000);
    const again = await signIn(member);
    expect(types(again.challenge).sort()).toEqual(['backup_code', 'totp']);
    expect((await verify(again.challenge!, { method: 'totp', code: appCode(t, secret) })).statusCode).toBe(200);
  });

  it('leaves an app added 30 h before the lock working: the reset and the sign-in pass with it', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    t.clock.advance(30 * HOUR);
    await notMe(member);
    expect((await auditEvents(t, member.id)).map((e) => e.event)).not.toContain('two_step.methods_suspended');
    const recovery = await reset(member, () => ({ method: 'totp', code: appCode(t, secret) }));
    expect(types(recovery)).toContain('totp');
    t.clock.advance(60_000);
    const { token, challenge } = await signIn(member, () => ({ method: 'totp', code: appCode(t, secret) }));
    expect(types(challenge)).toEqual(['totp']);
    expect((await overview(t, { ...member, token })).methods).toMatchObject([{ type: 'totp', suspended: false }]);
  });

  it('with every method suspended, 2SV counts as off: the e-mail link alone resets, and confirming asks for the password', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    t.clock.advance(2 * HOUR);
    const report = await t.app.inject({ method: 'POST', url: '/v1/me/compromised', headers: auth(member.token), payload: { details: 'not me' } });
    expect(report.statusCode).toBe(202);
    expect((await auditEvents(t, member.id)).find((e) => e.event === 'two_step.methods_suspended')?.details).toMatchObject({ types: ['totp'], reason: 'signed_in_report' });

    expect(await reset(member)).toBeUndefined();
    const { token, challenge } = await signIn(member);
    expect(challenge).toBeUndefined();
    const session = { ...member, token };
    const view = await overview(t, session);
    expect(view.enabled).toBe(false);
    expect(view.methods).toMatchObject([{ type: 'totp', suspended: true }]);

    const unconfirmed = await call(t, session, 'POST', '/v1/me/two-step/suspended/totp/confirm');
    expect(unconfirmed.statusCode).toBe(403);
    const stepUp = problem(unconfirmed).challenge as Challenge;
    expect(types(stepUp)).not.toContain('totp');
    expect((await verify(stepUp, { method: 'password', password: NEW_PASSWORD }, token)).statusCode).toBe(200);
    const confirmed = await call(t, session, 'POST', '/v1/me/two-step/suspended/totp/confirm');
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().enabled).toBe(true);
    expect((await auditEvents(t, member.id)).map((e) => e.event)).toContain('two_step.enabled');
    t.clock.advance(60_000);
    const last = (await signIn(member)).challenge!;
    expect(types(last)).toEqual(['totp']);
    expect((await verify(last, { method: 'totp', code: appCode(t, secret) })).statusCode).toBe(200);
  });

  it('lets an agent confirm a suspended method (the audit names the agent), and the member remove one', async () => {
    const agent = await signUp(t);
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    t.clock.advance(HOUR);
    await notMe(member);
    await t.app.verity.twoStep.confirmSuspended(member.id, 'totp', { kind: 'agent', agentId: agent.id, meta: noMeta });
    const rows = await t.db.selectFrom('audit_events').select(['event', 'actor_id']).where('account_id', '=', member.id).where('event', '=', 'two_step.method_confirmed').execute();
    expect(rows).toEqual([{ event: 'two_step.method_confirmed', actor_id: agent.id }]);
    expect((await lastMessage(t, member.email))?.body).toMatch(/lifted by Verity support/);
    await expect(t.app.verity.twoStep.confirmSuspended(member.id, 'totp', { kind: 'agent', agentId: agent.id, meta: noMeta })).rejects.toMatchObject({ code: 'not_found' });
    // Confirmed: the reset asks for the app again.
    expect(types(await reset(member, () => ({ method: 'totp', code: appCode(t, secret) })))).toEqual(['totp']);

    const other = await signUp(t);
    await addAuthenticator(t, other);
    t.clock.advance(HOUR);
    await notMe(other);
    await reset(other);
    const { token } = await signIn(other);
    const session = { ...other, token };
    expect((await call(t, session, 'DELETE', '/v1/me/two-step/totp')).statusCode).toBe(204);
    expect((await overview(t, session)).methods).toEqual([]);
  });
});
