import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';
import { addAuthenticator, appCode } from '../twostep/helpers.js';
import { auditRows, staff } from './helpers.js';

let t: TestApp;
let agent: SignedUp;
beforeAll(async () => {
  t = await createTestApp();
  ({ agent } = await staff(t));
});
afterAll(async () => {
  await t.close();
});

/** A member whose authenticator app, added an hour before a compromise report, is suspended. */
async function suspendedApp(): Promise<{ member: SignedUp; secret: string }> {
  const member = await signUp(t);
  const secret = await addAuthenticator(t, member);
  t.clock.advanceSeconds(3600);
  expect((await t.app.inject({ method: 'POST', url: '/v1/me/compromised', headers: auth(member.token), payload: {} })).statusCode).toBe(202);
  return { member, secret };
}

async function history(accountId: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/agent/accounts/${accountId}`, headers: auth(agent.token) });
  expect(res.statusCode).toBe(200);
  return res.json() as { twoStep: { methods: Array<{ type: string; suspended: boolean }> } };
}

function confirm(accountId: string, type: string, token: string, payload: unknown = { reason: 'Member called from the number on file and read the app name' }) {
  return t.app.inject({ method: 'POST', url: `/v1/agent/accounts/${accountId}/two-step/${type}/confirm`, headers: auth(token), payload: payload as object });
}

describe('an agent confirms a method suspended by a compromise lock', () => {
  it('shows it suspended, confirms it once with a reason, tells the member, and the app passes challenges again', async () => {
    const { member, secret } = await suspendedApp();
    expect((await history(member.id)).twoStep.methods).toContainEqual(expect.objectContaining({ type: 'totp', suspended: true }));

    const ok = await confirm(member.id, 'totp', agent.token);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ status: 'confirmed' });
    expect((await history(member.id)).twoStep.methods).toContainEqual(expect.objectContaining({ type: 'totp', suspended: false }));
    const audit = await auditRows(t, 'agent.two_step_confirmed');
    expect(audit.at(-1)).toMatchObject({ account_id: member.id, actor_id: agent.id, details: { type: 'totp', reason: 'Member called from the number on file and read the app name' } });
    expect((await lastMessage(t, member.email))!.body).toMatch(/Verity support/);

    const again = await confirm(member.id, 'totp', agent.token);
    expect(again.statusCode).toBe(404);

    // Usable again: the reset link's two-step check offers it.
    await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login: member.username }, remoteAddress: randomIp() });
    const link = linkToken((await lastMessage(t, member.email))!.body, '/recover/password');
    const look = (await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${link}` })).json() as { twoStepRequired: boolean; challenge: { id: string; methods: Array<{ type: string }> } };
    expect(look.twoStepRequired).toBe(true);
    expect(look.challenge.methods.map((m) => m.type)).toContain('totp');
    t.clock.advanceSeconds(30);
    const passed = await t.app.inject({ method: 'POST', url: `/v1/challenges/${look.challenge.id}/verify`, payload: { method: 'totp', code: appCode(t, secret) } });
    expect(passed.statusCode, passed.body).toBe(200);
  });

  it('refuses members (403), unsuspended or unknown methods (404) and a missing reason (400), changing nothing', async () => {
    const { member } = await suspendedApp();
    const byMember = await confirm(member.id, 'totp', (await signUp(t)).token);
    expect(byMember.statusCode).toBe(403);
    expect((await confirm(member.id, 'sms', agent.token)).statusCode).toBe(404);
    expect((await confirm(member.id, 'carrier_pigeon', agent.token)).statusCode).toBe(400);
    const noReason = await confirm(member.id, 'totp', agent.token, {});
    expect(noReason.statusCode).toBe(400);
    expect(problem(noReason).status).toBe(400);
    expect((await history(member.id)).twoStep.methods).toContainEqual(expect.objectContaining({ type: 'totp', suspended: true }));
  });

  it('works from the account page without JavaScript', async () => {
    const { member } = await suspendedApp();
    const desk = new Visitor(t);
    desk.cookies.set('verity_session', agent.token);
    const page = await desk.get(`/agent/accounts/${member.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`action="/agent/accounts/${member.id}/two-step/totp/confirm"`);
    const done = await desk.post(`/agent/accounts/${member.id}/two-step/totp/confirm`, { reason: 'Checked on a call' });
    expect(done.statusCode, done.body.slice(0, 300)).toBe(303);
    expect(done.headers.location).toBe(`/agent/accounts/${member.id}?done=confirmed`);
    const after = await desk.get(done.headers.location as string);
    expect(after.body).toContain('The two-step method is confirmed');
    expect(after.body).not.toContain(`/two-step/totp/confirm"`);
  });
});
