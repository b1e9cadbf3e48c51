import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { listen } from '../helpers/browser.js';
import { verifyNumber } from '../phone/helpers.js';
import { addAuthenticator, appCode, overview } from '../twostep/helpers.js';
import { caseOf, decide, HOUR, linkIn, MailCatcher, requestReset, resetApp, resetBody, settle, staff, status, statusLinkIn } from './support.js';

let t: TestApp;
let mail: MailCatcher;
let agent: SignedUp;
let admin: SignedUp;
beforeAll(async () => {
  mail = new MailCatcher();
  await mail.start();
  t = await resetApp(mail);
  ({ agent, admin } = await staff(t));
});
afterAll(async () => {
  await t.close();
  await mail.close();
});

/** A member with an authenticator app and a verified phone who then "loses" both. */
async function memberWithTwoStep(): Promise<SignedUp & { secret: string; phone: string }> {
  const who = await signUp(t, { fullName: 'Maria Santos' });
  const phone = await verifyNumber(t, who);
  const secret = await addAuthenticator(t, who);
  return { ...who, secret, phone };
}

async function submitted(who: SignedUp, overrides: Record<string, unknown> = {}) {
  const body = resetBody(who.username, overrides);
  const res = await requestReset(t, body);
  expect(res.statusCode, res.body).toBe(202);
  await settle(t);
  // The newest mail with a status link: a sign-in from a new browser just before mails a notice too,
  // and over SMTP the two may arrive in either order.
  const withLink = mail.to(body.contactEmail).filter((m) => /\/recover\/security-reset\/[0-9a-f-]{36}\?key=/.test(m.text ?? ''));
  expect(withLink.length).toBeGreaterThan(0);
  return { body, link: statusLinkIn(withLink[withLink.length - 1]!), requestId: res.json().requestId as string };
}

let listening: string | undefined;
/** The app on a loopback port, for races over real connections. */
async function server(): Promise<string> {
  listening ??= await listen(t);
  return listening;
}

async function sessionAlive(who: SignedUp): Promise<boolean> {
  return (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(who.token) })).statusCode === 200;
}

describe('the agent decides a security reset once', () => {
  it('shows the request beside the account, approves once, and a second decision is 409 already_decided', async () => {
    const who = await memberWithTwoStep();
    // A sign-in from the Philippines in Firefox, for the history beside the request.
    const headers = { 'cf-ipcountry': 'ph', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
    const signIn = await t.app.inject({ method: 'POST', url: '/v1/sessions', headers, payload: { login: who.username, password: who.password }, remoteAddress: '10.9.8.7' });
    t.clock.advanceSeconds(30); // the set-up code is used; the next one counts
    const passed = await t.app.inject({ method: 'POST', url: `/v1/challenges/${signIn.json().challenge.id}/verify`, headers, remoteAddress: '10.9.8.7', payload: { method: 'totp', code: appCode(t, who.secret) } });
    expect(passed.statusCode, passed.body).toBe(200);
    const { body, requestId } = await submitted(who, { oldPhoneDigits: who.phone.slice(-4), country: 'PH', contactEmail: who.email });
    const view = await caseOf(t, agent, requestId);
    expect(view.statusCode, view.body).toBe(200);
    const c = view.json();
    expect(c.account).toMatchObject({ id: who.id, username: who.username, phoneEnding: who.phone.slice(-2) });
    expect(c.matches).toEqual({ contactEmail: true, fullName: true, phoneDigits: true, country: true });
    expect(c.account.twoStep.methods.map((m: { type: string }) => m.type)).toEqual(['totp']);
    expect(c.account.signIns[0]).toMatchObject({ ip: '10.9.8.7', country: 'PH', device: 'Firefox on Linux' });
    expect(c.account.changes.map((e: { event: string }) => e.event)).toContain('two_step.method_added');
    // Nothing secret is in what the agent reads.
    expect(view.body).not.toMatch(/password_hash|argon2|key_hash|key_sealed|cancel_token|secret/i);
    expect(view.body).not.toContain(who.secret);

    const first = await decide(t, agent, requestId, 'approve');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ status: 'approved', effectiveAt: new Date(t.clock.now().getTime() + 72 * HOUR * 1000).toISOString() });
    for (const again of ['approve', 'deny', 'request_info']) {
      const res = await decide(t, agent, requestId, again);
      expect(res.statusCode).toBe(409);
      expect(problem(res).code).toBe('already_decided');
    }
    const audit = await t.db.selectFrom('audit_events').select(['actor_id', 'details']).where('event', '=', 'security_reset.decided').where('account_id', '=', who.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_id).toBe(agent.id);
    await settle(t);
    // The requester gave the account's own address: they get the approval and the owner's notice.
    expect(mail.to(body.contactEmail).map((m) => m.subject)).toEqual(expect.arrayContaining(['Your security reset was approved', expect.stringMatching(/will be reset on/)]));
  });

  it('lets exactly one of many parallel decisions through, against a listening server', async () => {
    const who = await memberWithTwoStep();
    const { requestId } = await submitted(who);
    const base = await server();
    const decisions = ['approve', 'deny', 'approve', 'request_info', 'deny', 'approve', 'deny', 'approve'];
    const answers = await Promise.all(
      decisions.map((decision) =>
        fetch(`${base}/v1/agent/security-resets/${requestId}/decision`, {
          method: 'POST',
          headers: { ...auth(agent.token), 'content-type': 'application/json' },
          body: JSON.stringify({ decision, note: `race ${decision}` }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } })),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.body.code === 'already_decided')).toHaveLength(decisions.length - 1);
    const notes = await t.db.selectFrom('security_reset_notes').select('kind').where('case_id', '=', requestId).where('author', '=', 'agent').execute();
    expect(notes).toHaveLength(1);
    expect(await t.app.verity.jobs.pending('security_reset.apply')).toBeLessThanOrEqual(2);
  });

  it('asks for more information: the requester adds it on the status link, and the request is decided once more', async () => {
    const who = await memberWithTwoStep();
    const { body, link, requestId } = await submitted(who);
    expect((await decide(t, agent, requestId, 'request_info', 'Which city were you in when you last signed in?')).statusCode).toBe(200);
    await settle(t);
    const asked = mail.last(body.contactEmail);
    expect(asked.subject).toBe('We need more information about your security reset');
    expect(asked.text).toContain('Which city were you in');
    expect((await status(t, link)).json()).toMatchObject({ status: 'more_info_needed' });
    // Waiting for the requester, the agent cannot decide again.
    expect(problem(await decide(t, agent, requestId, 'approve')).code).toBe('already_decided');

    const added = await t.app.inject({ method: 'POST', url: `/v1/recovery/security-reset/${requestId}/info?key=${link.key}`, payload: { details: 'Manila, last Tuesday.' } });
    expect(added.statusCode, added.body).toBe(200);
    expect(added.json().status).toBe('pending_review');
    expect(added.json().messages.map((m: { from: string; body: string }) => [m.from, m.body])).toEqual([
      ['you', body.details],
      ['agent', 'Which city were you in when you last signed in?'],
      ['you', 'Manila, last Tuesday.'],
    ]);
    const twice = await t.app.inject({ method: 'POST', url: `/v1/recovery/security-reset/${requestId}/info?key=${link.key}`, payload: { details: 'again' } });
    expect(problem(twice).code).toBe('reset_not_waiting');
    expect((await decide(t, agent, requestId, 'deny', 'We could not confirm it is you.')).statusCode).toBe(200);
    expect(problem(await decide(t, agent, requestId, 'approve')).code).toBe('already_decided');
    await settle(t);
    expect(mail.last(body.contactEmail).text).toContain('We could not confirm it is you.');
    expect((await status(t, link)).json().status).toBe('denied');
  });

  it('cannot approve a request whose login names no account', async () => {
    const { requestId } = await submitted({ username: `nobody-${Date.now()}` } as SignedUp);
    const res = await decide(t, agent, requestId, 'approve');
    expect(res.statusCode).toBe(409);
    expect(problem(res).code).toBe('reset_no_account');
    expect((await decide(t, agent, requestId, 'deny')).statusCode).toBe(200);
  });
});

describe('who may decide', () => {
  it('refuses members on the agent routes and pages (403), and agents on admin routes', async () => {
    const who = await memberWithTwoStep();
    const { requestId } = await submitted(who);
    const member = await signUp(t);
    expect((await caseOf(t, member, requestId)).statusCode).toBe(403);
    const res = await decide(t, member, requestId, 'approve');
    expect(res.statusCode).toBe(403);
    expect(problem(res).code).toBe('forbidden');
    expect((await t.app.inject({ method: 'GET', url: `/agent/security-resets/${requestId}`, headers: auth(member.token) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: `/v1/agent/security-resets/${requestId}` })).statusCode).toBe(401);
    // An agent is not an admin.
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(agent.token), payload: { login: member.username, role: 'agent' } })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/staff', headers: auth(agent.token) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/admin', headers: auth(agent.token) })).statusCode).toBe(403);
    // An admin may do what agents do.
    expect((await caseOf(t, admin, requestId)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: `/agent/security-resets/${requestId}`, headers: auth(agent.token) })).statusCode).toBe(200);
    expect(await sessionAlive(who)).toBe(true);
  });
});

describe('denied and cancelled requests change nothing', () => {
  async function unchanged(who: SignedUp & { secret: string }) {
    t.clock.advanceSeconds(80 * HOUR);
    await settle(t);
    expect(await sessionAlive(who)).toBe(true);
    expect((await overview(t, who)).methods.map((m) => m.type)).toEqual(['totp']);
  }

  it('a denial leaves the account alone, however long one waits', async () => {
    const who = await memberWithTwoStep();
    const { body, link, requestId } = await submitted(who);
    expect((await decide(t, agent, requestId, 'deny', 'Details do not match.')).statusCode).toBe(200);
    await unchanged(who);
    expect(mail.last(body.contactEmail).subject).toBe('Your security reset was denied');
    expect((await status(t, link)).json().status).toBe('denied');
  });

  it("the owner's cancel link (e-mail and text) stops an approved reset, once", async () => {
    const who = await memberWithTwoStep();
    const { body, link, requestId } = await submitted(who);
    expect((await decide(t, agent, requestId, 'approve')).statusCode).toBe(200);
    await settle(t);
    const notice = mail.last(who.email);
    expect(notice.subject).toMatch(/will be reset on/);
    const token = linkIn(notice, '/recover/security-reset/cancel');
    const sms = await t.app.inject({ method: 'GET', url: `/v1/dev/outbox?to=${encodeURIComponent(who.phone)}` });
    expect(sms.json()[0].body).toContain(`/recover/security-reset/cancel/${token}`);

    t.clock.advanceSeconds(10 * HOUR);
    const cancel = await t.app.inject({ method: 'POST', url: `/v1/recovery/security-reset/cancel/${token}`, remoteAddress: randomIp() });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/v1/recovery/security-reset/cancel/${token}` })).statusCode).toBe(410);
    await unchanged(who);
    expect(mail.to(body.contactEmail).map((m) => m.subject)).toContain('Your security reset was cancelled');
    expect((await status(t, link)).json().status).toBe('cancelled');
  });

  it('cancels once when the link is used many times at once, against a listening server', async () => {
    const who = await memberWithTwoStep();
    const { body, requestId } = await submitted(who);
    expect((await decide(t, agent, requestId, 'approve')).statusCode).toBe(200);
    await settle(t);
    const token = linkIn(mail.last(who.email), '/recover/security-reset/cancel');
    const base = await server();
    const answers = await Promise.all(Array.from({ length: 6 }, () => fetch(`${base}/v1/recovery/security-reset/cancel/${token}`, { method: 'POST' }).then((r) => r.status)));
    expect(answers.filter((s) => s === 200)).toHaveLength(1);
    expect(answers.filter((s) => s === 410)).toHaveLength(5);
    await settle(t);
    expect(mail.to(body.contactEmail).filter((m) => m.subject === 'Your security reset was cancelled')).toHaveLength(1);
  });

  it('a sign-in with two-step verification during the waiting period cancels it', async () => {
    const who = await memberWithTwoStep();
    const { body, link, requestId } = await submitted(who);
    expect((await decide(t, agent, requestId, 'approve')).statusCode).toBe(200);
    t.clock.advanceSeconds(HOUR);
    const signIn = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: who.username, password: who.password }, remoteAddress: randomIp() });
    expect(signIn.json().status).toBe('two_step_required');
    const verify = await t.app.inject({ method: 'POST', url: `/v1/challenges/${signIn.json().challenge.id}/verify`, payload: { method: 'totp', code: appCode(t, who.secret) } });
    expect(verify.statusCode, verify.body).toBe(200);
    expect((await status(t, link)).json().status).toBe('cancelled');
    await unchanged(who);
    const cancelled = mail.to(body.contactEmail).filter((m) => m.subject === 'Your security reset was cancelled');
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]!.text).toContain('signed in with two-step verification');
    const view = await caseOf(t, agent, requestId);
    expect(view.json().request).toMatchObject({ status: 'cancelled', cancelledVia: 'sign_in' });
  });
});
