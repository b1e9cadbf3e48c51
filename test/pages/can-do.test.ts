import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeconds } from '../../src/platform/clock.js';
import { auth, createTestApp, lastMessage, linkToken, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { verifyNumber } from '../phone/helpers.js';
import { decode, Visitor } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

interface Shown {
  allowed: boolean;
  status: string;
  steps: Array<{ reason: string; text: string; href: string | null }>;
}

/** The "What you can do" panel of /account, read back into the shape of /v1/me/permissions. */
function panel(html: string): Record<string, Shown> {
  const section = /<section class="can-do"[\s\S]*?<\/section>/.exec(html)?.[0];
  if (!section) throw new Error('no "What you can do" panel on the page');
  const shown: Record<string, Shown> = {};
  for (const [, action, allowed, body] of section.matchAll(/<li class="can-do-item" data-action="(\w+)" data-allowed="(\w+)">([\s\S]*?)<\/li>\s*(?=<li class="can-do-item"|<\/ul>\s*<\/section>)/g)) {
    const steps = [...body!.matchAll(/<li data-reason="(\w+)">([\s\S]*?)<\/li>/g)].map(([, reason, inner]) => ({
      reason: reason!,
      text: decode(inner!.replace(/<[^>]+>/g, '').trim()),
      href: /href="([^"]*)"/.exec(inner!)?.[1] ?? null,
    }));
    const status = /data-testid="can-do-status">([^<]*)</.exec(body!)?.[1] ?? '';
    shown[action!] = { allowed: allowed === 'true', status, steps };
  }
  return shown;
}

/** A browser without JavaScript in the same session as the API token, so page and API judge one session. */
function visitorFor(who: SignedUp): Visitor {
  const visitor = new Visitor(t);
  visitor.cookies.set('verity_session', who.token);
  return visitor;
}

async function permissions(who: SignedUp) {
  const res = await t.app.inject({ method: 'GET', url: '/v1/me/permissions', headers: auth(who.token) });
  expect(res.statusCode).toBe(200);
  return res.json() as Record<string, { allowed: boolean; reasons: string[] }>;
}

/** The panel says exactly what the API says, action by action and reason by reason. */
async function expectPanelMatchesApi(who: SignedUp) {
  const page = await visitorFor(who).get('/account');
  expect(page.statusCode).toBe(200);
  const shown = panel(page.body);
  const api = await permissions(who);
  expect(Object.keys(shown)).toEqual(['post_job', 'submit_proposal', 'view_payments', 'withdraw_funds']);
  for (const [action, decision] of Object.entries(api)) {
    expect(shown[action]!.allowed, action).toBe(decision.allowed);
    expect(shown[action]!.status, action).toBe(decision.allowed ? 'allowed' : 'not yet');
    expect(shown[action]!.steps.map((s) => s.reason), action).toEqual(decision.reasons);
  }
  return { shown, html: page.body };
}

describe('the "What you can do" panel on /account', () => {
  it('tells a new member that every action waits, with a link for each missing step', async () => {
    const member = await signUp(t);
    const { shown, html } = await expectPanelMatchesApi(member);
    expect(shown.post_job!.allowed).toBe(false);
    expect(shown.post_job!.steps).toEqual([
      { reason: 'email_verification_required', text: 'Verify your e-mail address', href: '#verify-email' },
      { reason: 'phone_verification_required', text: 'Verify your phone number', href: '/account/phone' },
    ]);
    // The e-mail step points at the resend form on the same page, which must be there.
    expect(html).toMatch(/<form method="post" action="\/account\/email-verification"[^>]*id="verify-email"/);
    const payment = shown.withdraw_funds!.steps.find((s) => s.reason === 'step_up_required');
    expect(payment).toMatchObject({ text: expect.stringContaining("Confirm it's you"), href: '/account/security#two-step' });
  });

  it('follows the gate as the member verifies the e-mail, the phone, then confirms it is them', async () => {
    const member = await signUp(t);
    const token = linkToken((await lastMessage(t, member.email))!.body, 'verify-email?token');
    expect((await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token } })).statusCode).toBe(200);
    const afterEmail = await expectPanelMatchesApi(member);
    expect(afterEmail.shown.submit_proposal!.steps.map((s) => s.text)).toEqual(['Verify your phone number']);
    expect(afterEmail.html).not.toContain('id="verify-email"');

    await verifyNumber(t, member);
    let { shown } = await expectPanelMatchesApi(member);
    expect(shown.post_job).toEqual({ allowed: true, status: 'allowed', steps: [] });
    expect(shown.submit_proposal!.allowed).toBe(true);
    expect(shown.view_payments!.allowed).toBe(false);

    // A step-up of this very session (what two-step verification will grant) moves the payments panel with the API.
    const sessions = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(member.token) });
    const current = (sessions.json() as Array<{ id: string; current: boolean }>).find((s) => s.current)!;
    await t.db.updateTable('sessions').set({ elevated_until: addSeconds(t.clock.now(), 300) }).where('id', '=', current.id).execute();
    ({ shown } = await expectPanelMatchesApi(member));
    expect(shown.view_payments!.steps.map((s) => s.reason)).not.toContain('step_up_required');
  });

  it('keeps the panel on the page when a profile change is refused', async () => {
    const member = await signUp(t);
    const visitor = visitorFor(member);
    await visitor.get('/account');
    const res = await visitor.post('/account', { fullName: 'No Roles', country: 'PH' });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(panel(res.body))).toHaveLength(4);
  });
});
