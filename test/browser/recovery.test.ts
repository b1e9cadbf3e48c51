import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, signUp, stepUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, launchBrowser, watchConsole } from '../helpers/browser.js';
import { verifyNumber } from '../phone/helpers.js';
import { addAuthenticator, appCode } from '../twostep/helpers.js';

/**
 * The recovery paths end to end in Chromium with JavaScript turned off, so every step is a
 * link or a form post: sign-in → "Forgot your password?" → the e-mailed link → the two-step
 * check → the new password → sign-in; and "this wasn't me" → the lock → the reset → sign-in.
 */
let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];
let consoleErrors: string[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function noScriptPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false });
  open.push(context);
  const page = await context.newPage();
  watchConsole(page, consoleErrors);
  return page;
}

/** The first link in the newest e-mail to `to` whose path starts with `path`, from the development outbox. */
async function linkFromMail(page: Page, to: string, path: string): Promise<string> {
  await t.app.verity.jobs.drain();
  await t.app.verity.outbox.drain();
  const res = await page.request.get(`/v1/dev/outbox?to=${encodeURIComponent(to)}`);
  expect(res.status()).toBe(200);
  const [mail] = (await res.json()) as Array<{ body: string }>;
  const match = new RegExp(`https?://[^\\s"<>]+${path.replace(/\//g, '\\/')}[^\\s"<>]*`).exec(mail?.body ?? '');
  if (!match) throw new Error(`no ${path} link in the newest e-mail to ${to}`);
  expect(match[0].startsWith(baseURL)).toBe(true);
  return match[0];
}

/** Sign-in page → "Forgot your password?" → the form → "Check your e-mail". */
async function askForReset(page: Page, login: string): Promise<void> {
  await page.goto('/login');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.waitForURL('**/recover/password');
  await page.getByLabel('Username or e-mail').fill(login);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.waitForURL('**/recover/password/sent');
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Check your e-mail');
}

/** On the new-password page: sets it, lands on "Password changed" and follows "Sign in". */
async function setNewPassword(page: Page, password: string): Promise<void> {
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Choose a new password');
  await page.getByLabel('New password').fill(password);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.waitForURL('**/recover/password/done');
  expect(await page.getByRole('status').textContent()).toContain('every session on your account has ended');
  await page.locator('#main').getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL('**/login');
}

async function signInForm(page: Page, login: string, password: string): Promise<void> {
  await page.getByLabel('Username or e-mail').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
}

/** Screenshots at phone and desktop widths into SHOT_DIR, when it is set. */
async function shots(page: Page, name: string): Promise<void> {
  if (!process.env.SHOT_DIR) return;
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: `${process.env.SHOT_DIR}/recovery-${name}-${width}.png`, fullPage: true });
  }
}

async function withBackupCodes(who: SignedUp, secret: string): Promise<string[]> {
  t.clock.advanceSeconds(30);
  await stepUp(t, who, async (challenge) => {
    const res = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, headers: auth(who.token), payload: { method: 'totp', code: appCode(t, secret) } });
    expect(res.statusCode, res.body).toBe(200);
  });
  const res = await t.app.inject({ method: 'POST', url: '/v1/me/two-step/backup-codes', headers: auth(who.token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().codes as string[];
}

describe.skipIf(!browserAvailable)('recovery in a browser, without JavaScript', () => {
  beforeAll(async () => {
    const port = await freePort();
    baseURL = `http://localhost:${port}`;
    t = await createTestApp({ env: { PUBLIC_URL: baseURL, PORT: String(port) } });
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(async () => {
    for (const context of open.splice(0)) await context.close();
    const errors = consoleErrors;
    consoleErrors = [];
    expect(errors).toEqual([]);
  });

  it('forgot password with the authenticator app on: link → app code → new password → sign in (app code again)', async () => {
    const who = await signUp(t);
    const secret = await addAuthenticator(t, who);
    const page = await noScriptPage();
    await askForReset(page, who.username);

    const link = await linkFromMail(page, who.email, '/recover/password/');
    t.clock.advanceSeconds(30);
    await page.goto(link);
    await page.waitForURL('**/check');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Confirm it is you');
    expect(await page.getByRole('link', { name: 'A backup code' }).count()).toBe(0);
    await page.getByLabel('Code').fill('000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.locator('#f-code-error').textContent()).toBeTruthy();
    await page.getByLabel('Code').fill(appCode(t, secret));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(link);
    await setNewPassword(page, 'quiet harbour under silver moon');

    await signInForm(page, who.username, 'quiet harbour under silver moon');
    await page.waitForURL('**/login/verify**');
    t.clock.advanceSeconds(30);
    await page.getByLabel('Code').fill(appCode(t, secret));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/account');
    // The old session ended with the reset.
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(who.token) })).statusCode).toBe(401);
  });

  it('forgot password with a backup code: "Try another method" on the check, and at sign-in', async () => {
    const who = await signUp(t);
    const secret = await addAuthenticator(t, who);
    const [first, second] = await withBackupCodes(who, secret);
    const page = await noScriptPage();
    await askForReset(page, who.email);

    const link = await linkFromMail(page, who.email, '/recover/password/');
    await page.goto(link);
    await page.waitForURL('**/check');
    await page.getByRole('link', { name: 'A backup code' }).click();
    await page.getByLabel('Code').fill(first!);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(link);
    await setNewPassword(page, 'copper lanterns on a rainy pier');

    await signInForm(page, who.email, 'copper lanterns on a rainy pier');
    await page.waitForURL('**/login/verify**');
    await page.getByRole('link', { name: 'A backup code' }).click();
    await page.getByLabel('Code').fill(second!);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/account');
  });

  it('"this wasn\'t me" → the lock (sign-in says how back in) → reset by the e-mail link → sign in', async () => {
    const who = await signUp(t);
    const changed = await t.app.inject({ method: 'POST', url: '/v1/me/password', headers: auth(who.token), payload: { password: who.password, newPassword: 'an intruder chose this passphrase' } });
    expect(changed.statusCode).toBe(200);
    const page = await noScriptPage();

    await page.goto(await linkFromMail(page, who.email, '/recover/not-me/'));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe("This wasn't me");
    await page.getByRole('button', { name: 'Lock my account' }).click();
    await page.waitForLoadState();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your account is locked');
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(who.token) })).statusCode).toBe(401);

    // Whoever knows the password now is refused, and told the way back in.
    await page.goto('/login');
    await signInForm(page, who.username, 'an intruder chose this passphrase');
    const refusal = await page.getByRole('alert').textContent();
    expect(refusal).toMatch(/locked/i);
    expect(refusal).toMatch(/reset your password/i);

    await askForReset(page, who.username);
    await page.goto(await linkFromMail(page, who.email, '/recover/password/'));
    await setNewPassword(page, 'my own passphrase once again');
    await signInForm(page, who.username, 'my own passphrase once again');
    await page.waitForURL('**/account');
  });

  it('a duplicate account: the phone page e-mails a reset link to the account holding the number, naming none', async () => {
    const holder = await signUp(t);
    const e164 = await verifyNumber(t, holder);
    const extra = await signUp(t);
    const page = await noScriptPage();
    await page.goto('/login?next=/account/phone');
    await signInForm(page, extra.username, extra.password);
    await page.waitForURL('**/account/phone');
    await page.getByLabel('Phone number').fill(e164);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.waitForLoadState();
    const box = page.getByTestId('phone-in-use');
    expect(await box.textContent()).not.toContain(holder.username);
    expect(await box.getByRole('link', { name: /second account by mistake/ }).getAttribute('href')).toBe('/help/duplicate-account');
    await shots(page, 'phone-in-use');
    await box.getByRole('button', { name: 'E-mail a reset link to the account that holds this number' }).click();
    await page.waitForURL('**/recover/password/sent');
    await shots(page, 'sent');
    expect(await linkFromMail(page, holder.email, '/recover/password/')).toContain('/recover/password/');

    await page.goto('/recover/password');
    await shots(page, 'forgot');
    await page.goto('/help/duplicate-account');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('I made a second account by mistake');
    await shots(page, 'help-article');
  });
});
