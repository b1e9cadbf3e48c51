import * as OTPAuth from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, lastMessage, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';
import { verifyNumber } from '../phone/helpers.js';
import { staff } from '../security-reset/support.js';
import { addAuthenticator } from '../twostep/helpers.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
let agent: SignedUp;
const consoleErrors: string[] = [];
const SHOTS = process.env.SHOT_DIR;

beforeAll(async () => {
  if (!browserAvailable) return;
  t = await createTestApp();
  ({ agent } = await staff(t));
  baseURL = await listen(t);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function page(): Promise<Page> {
  const { page: p } = await newPage(browser, baseURL);
  watchConsole(p, consoleErrors);
  return p;
}

async function shoot(p: Page, name: string): Promise<void> {
  await expectAccessible(p);
  if (!SHOTS) return;
  for (const width of [390, 1280]) {
    await p.setViewportSize({ width, height: 900 });
    await p.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
}

/** The path of the first link to `path` in the newest e-mail to `to` (links carry PUBLIC_URL). */
async function linkFromMail(to: string, path: string): Promise<string> {
  const mail = await lastMessage(t, to);
  const match = new RegExp(`https?://[^\\s"]+${path.replace(/[/?]/g, '\\$&')}[^\\s"]*`).exec(mail?.body ?? '');
  if (!match) throw new Error(`no ${path} link in mail to ${to}: ${mail?.body}`);
  const url = new URL(match[0]);
  return url.pathname + url.search;
}

/** A member who had an authenticator app and a phone, and lost both, asks for a reset from the sign-in challenge. */
async function requestFromChallenge(who: SignedUp, contactEmail: string): Promise<{ requester: Page; statusPath: string; requestId: string }> {
  const requester = await page();
  await signInByForm(requester, who.username, who.password);
  await requester.waitForURL('**/login/verify**');
  await requester.getByRole('link', { name: "I can't use any of these methods" }).click();
  await requester.waitForURL('**/recover/security-reset');
  await requester.getByLabel('Username or e-mail of the account').fill(who.username);
  await requester.getByLabel('Your full name').fill('Maria Santos');
  await requester.getByLabel('Your e-mail, for our answers').fill(contactEmail);
  await requester.getByLabel('What happened?').fill('My phone was stolen at the market; the authenticator app was on it.');
  await requester.getByLabel('Last digits of the lost phone number (optional)').fill('1234');
  await requester.getByLabel('Country of the account (optional)').selectOption('PH');
  await requester.getByRole('button', { name: 'Send the request' }).click();
  await requester.waitForURL('**/recover/security-reset/sent');
  const statusPath = await linkFromMail(contactEmail, '/recover/security-reset/');
  await requester.goto(statusPath);
  expect(await requester.getByTestId('reset-status').getAttribute('data-status')).toBe('pending_review');
  return { requester, statusPath, requestId: statusPath.split('/')[3]!.split('?')[0]! };
}

async function approve(requestId: string, shot?: string): Promise<Page> {
  const desk = await page();
  await signInByForm(desk, agent.username, agent.password, `/login?next=${encodeURIComponent(`/agent/security-resets/${requestId}`)}`);
  await desk.waitForURL(`**/agent/security-resets/${requestId}`);
  expect(await desk.getByTestId('match-country').textContent()).toBe('matches');
  expect(await desk.getByTestId('two-step-methods').textContent()).toContain('totp');
  if (shot) await shoot(desk, shot);
  await desk.getByRole('radio', { name: /Approve/ }).check();
  await desk.getByLabel('Note to the requester').fill('Checked the sign-ins and the phone digits.');
  await desk.getByRole('button', { name: 'Record the decision' }).click();
  await desk.waitForURL('**?done=approve');
  expect(await desk.getByTestId('case-status').textContent()).toBe('approved');
  return desk;
}

async function memberWhoLostTheirPhone(): Promise<SignedUp> {
  const who = await signUp(t, { fullName: 'Maria Santos' });
  await verifyNumber(t, who, `+63917${String(Math.floor(Math.random() * 1e3)).padStart(3, '0')}1234`);
  await addAuthenticator(t, who);
  return who;
}

describe.skipIf(!browserAvailable)('resetting the security information in Chromium', () => {
  it('goes from the sign-in challenge to an approval, waits 72 hours, then a new password, new 2SV and a sign-in', async () => {
    const who = await memberWhoLostTheirPhone();
    const contact = `maria-${Date.now()}@contact.test`;
    const requester = await page();
    await requester.goto('/recover/security-reset');
    await shoot(requester, 'security-reset-form');
    await requester.getByRole('button', { name: 'Send the request' }).click();
    expect(await requester.locator('#f-login-error').count()).toBe(1);
    await shoot(requester, 'security-reset-form-errors');

    const { requester: r, statusPath, requestId } = await requestFromChallenge(who, contact);
    await shoot(r, 'security-reset-status');
    const desk = await approve(requestId, 'agent-security-reset-pending');
    await shoot(desk, 'agent-security-reset');

    await r.goto(statusPath);
    expect(await r.getByTestId('reset-status').getAttribute('data-status')).toBe('approved');
    // A day before the end nothing has happened.
    t.clock.advanceSeconds(71 * 3600);
    await t.app.verity.jobs.drain();
    await r.reload();
    expect(await r.getByTestId('reset-status').getAttribute('data-status')).toBe('approved');
    t.clock.advanceSeconds(3600 + 1);
    await t.app.verity.jobs.drain();
    await r.reload();
    expect(await r.getByTestId('reset-status').getAttribute('data-status')).toBe('completed');
    await shoot(r, 'security-reset-completed');

    await r.goto(await linkFromMail(contact, '/recover/password/'));
    await r.getByLabel('New password').fill('a brand new lengthy passphrase 42');
    await r.getByRole('button', { name: 'Set the new password' }).click();
    await r.waitForURL('**/recover/password/done?then=two-step');
    await r.getByRole('link', { name: 'Sign in and set up two-step verification' }).click();
    await r.getByLabel('Username or e-mail').fill(who.username);
    await r.getByLabel('Password').fill('a brand new lengthy passphrase 42');
    await r.getByRole('button', { name: 'Sign in' }).click();
    await r.waitForURL('**/account/security');
    await r.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await r.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
    const code = () => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: t.clock.now().getTime() });
    await r.getByLabel('Code from the app').fill(code());
    await r.getByRole('button', { name: 'Turn on' }).click();
    await r.waitForURL('**/account/security?twostep=totp*');
    expect(await r.getByTestId('two-step-status').textContent()).toContain('on');

    // Signing in again asks for the new app's code.
    const again = await page();
    await signInByForm(again, who.username, 'a brand new lengthy passphrase 42');
    await again.waitForURL('**/login/verify**');
    t.clock.advanceSeconds(30);
    await again.getByLabel('Code').fill(code());
    await again.getByRole('button', { name: 'Continue' }).click();
    await again.waitForURL('**/account');
    expect(await again.getByTestId('username').textContent()).toBe(who.username);
    expect(consoleErrors).toEqual([]);
  }, 240_000);

  it("lets the owner cancel during the waiting period from the e-mailed link", async () => {
    const who = await memberWhoLostTheirPhone();
    const contact = `someone-${Date.now()}@contact.test`;
    const { requester, statusPath, requestId } = await requestFromChallenge(who, contact);
    await approve(requestId);
    const owner = await page();
    await owner.goto(await linkFromMail(who.email, '/recover/security-reset/cancel/'));
    await shoot(owner, 'security-reset-cancel');
    await owner.getByRole('button', { name: 'Cancel the reset' }).click();
    expect(await owner.getByRole('heading', { level: 1 }).textContent()).toBe('Reset cancelled');
    t.clock.advanceSeconds(73 * 3600);
    await t.app.verity.jobs.drain();
    await requester.goto(statusPath);
    expect(await requester.getByTestId('reset-status').getAttribute('data-status')).toBe('cancelled');
    expect(await requester.getByTestId('reset-messages').textContent()).toContain('cancelled the reset');
    const methods = await t.db.selectFrom('two_step_methods').select('type').where('account_id', '=', who.id).execute();
    expect(methods.map((m) => m.type)).toEqual(['totp']);
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
