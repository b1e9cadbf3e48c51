import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, newPage, signInByForm, watchConsole } from '../helpers/browser.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];

/** A free port, so PUBLIC_URL (the passkeys' origin) can name it before the app starts. */
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

/** Chromium's virtual authenticator for this page (DevTools protocol), as a platform passkey with user verification. */
async function virtualAuthenticator(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
}

async function shots(page: Page, name: string): Promise<void> {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    if (process.env.SHOT_DIR) await page.screenshot({ path: `${process.env.SHOT_DIR}/${name}-${width}.png`, fullPage: true });
  }
}

describe.skipIf(!browserAvailable)('passkeys at a challenge in Chromium', () => {
  beforeAll(async () => {
    const port = await freePort();
    // WebAuthn refuses an IP address as relying party: the site is http://localhost:<port>.
    baseURL = `http://localhost:${port}`;
    t = await createTestApp({ env: { PUBLIC_URL: baseURL, PORT: String(port) } });
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of open) await context.close();
    await browser?.close();
    await t?.close();
  });

  it('steps up with a passkey on /account/step-up, back to the page that asked; signs in with it at the second step', async () => {
    const who = await signUp(t);
    const { context, page } = await newPage(browser, baseURL);
    open.push(context);
    const errors: string[] = [];
    watchConsole(page, errors);
    await virtualAuthenticator(page);
    await signInByForm(page, who.username, who.password, '/login?next=/account/security');
    await page.waitForURL('**/account/security');

    // The first method needs no step-up: a passkey, made by the virtual authenticator.
    await page.getByLabel('Name for this passkey').fill('This laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL('**/account/security?twostep=passkey*');

    // 2SV is on: backup codes are a change to it, so the step-up page asks for the passkey.
    await page.getByRole('button', { name: 'Create backup codes' }).click();
    await page.waitForURL('**/account/step-up?next=%2Faccount%2Fsecurity');
    await expect.poll(() => page.getByRole('button', { name: 'Use a passkey' }).isVisible()).toBe(true);
    expect(await page.locator('[data-passkey-nojs]').isHidden()).toBe(true);
    expect(await page.locator('main').textContent()).toContain('This laptop');
    await expectAccessible(page);
    await shots(page, 'step-up-passkey');
    const counter = async () => (await t.db.selectFrom('passkeys').select('counter').where('account_id', '=', who.id).executeTakeFirstOrThrow()).counter;
    const before = await counter();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL('**/account/security');
    expect(await counter()).toBeGreaterThan(before);
    const passed = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', who.id).where('event', '=', 'challenge.passed').execute();
    expect(passed.map((e) => e.details)).toEqual([expect.objectContaining({ purpose: 'step_up', method: 'passkey' })]);
    await page.getByRole('button', { name: 'Create backup codes' }).click();
    await expect.poll(() => page.getByTestId('backup-codes').locator('li').count()).toBe(10);

    // Signed out, the second step of sign-in offers the passkey among the methods.
    await context.clearCookies();
    await signInByForm(page, who.username, who.password, '/login?next=/account/security');
    await page.waitForURL('**/login/verify*');
    await page.getByRole('link', { name: /A passkey or security key/ }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Use a passkey' }).isVisible()).toBe(true);
    await expectAccessible(page);
    await shots(page, 'login-verify-passkey');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL('**/account/security');
    // The first sign-in (2SV off) was the password's; this one the passkey's.
    const signIns = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', who.id).where('event', '=', 'signin.succeeded').execute();
    expect(signIns.map((e) => e.details.method ?? 'password').sort()).toEqual(['passkey', 'password']);
    expect(errors).toEqual([]);
  });
});
