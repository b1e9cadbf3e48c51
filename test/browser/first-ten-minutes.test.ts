import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, uniqueUser, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, watchConsole } from '../helpers/browser.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];
let consoleErrors: string[] = [];
/** Screenshots of each step; SCREENS_DIR puts them where a person will look at them. */
const screens = process.env.SCREENS_DIR ?? join(process.cwd(), '.test-cache', 'screens');

/** What every step of the walk must hold: axe passes, nothing is wider than the screen, and a picture is kept. */
async function step(page: Page, width: number, n: number, name: string): Promise<void> {
  await page.waitForLoadState();
  await expectAccessible(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} is wider than the ${width} px screen`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(screens, `${width}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** The "What you can do" panel as { action: [status, ...step texts] }. */
async function canDo(page: Page): Promise<Record<string, string[]>> {
  const items = page.getByTestId('can-do').locator('.can-do-item');
  const out: Record<string, string[]> = {};
  for (const item of await items.all()) {
    const action = (await item.getAttribute('data-action'))!;
    out[action] = [(await item.getByTestId('can-do-status').textContent())!, ...(await item.locator('ul.steps li').allTextContents()).map((s) => s.trim())];
  }
  return out;
}

describe.skipIf(!browserAvailable)('the first ten minutes of a new member, in a browser', () => {
  beforeAll(async () => {
    mkdirSync(screens, { recursive: true });
    t = await createTestApp();
    baseURL = await listen(t);
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

  it.each([390, 1280])('at %i px: signs up, follows the e-mail link, verifies the phone and sees what it can do', async (width) => {
    const { context, page } = await newPage(browser, baseURL);
    open.push(context);
    watchConsole(page, consoleErrors);
    await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
    const user = uniqueUser('walk');
    const phone = `0917${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const e164 = `+63${phone.slice(1)}`;

    // 1. The home page: one way in.
    await page.goto('/');
    await step(page, width, 1, 'home');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL('**/signup');

    // 2. Sign-up, first refused (the member forgot the password), then accepted.
    await step(page, width, 2, 'signup');
    await page.getByLabel('E-mail').fill(user.email);
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Country').selectOption('PH');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForLoadState();
    const password = page.getByLabel('Password', { exact: true });
    expect(await password.getAttribute('aria-invalid')).toBe('true');
    // The keyboard is already on the field in error, and its message is its description.
    expect(await password.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    const described = (await password.getAttribute('aria-describedby'))!.split(' ');
    expect(await page.locator(`#${described.at(-1)}`).textContent()).toBeTruthy();
    await step(page, width, 3, 'signup-refused');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/account');

    // 3. The account page: nothing is allowed yet, and the panel says what to do.
    await step(page, width, 4, 'account-new');
    expect(await canDo(page)).toEqual({
      post_job: ['not yet', 'Verify your e-mail address', 'Verify your phone number'],
      submit_proposal: ['not yet', 'Verify your e-mail address', 'Verify your phone number'],
      view_payments: expect.arrayContaining(['not yet', 'Verify your e-mail address', 'Verify your phone number']),
      withdraw_funds: expect.arrayContaining(['not yet', 'Verify your e-mail address', 'Verify your phone number']),
    });
    // The e-mail step leads to the resend form on the same page.
    await page.getByTestId('can-do').getByRole('link', { name: 'Verify your e-mail address' }).first().click();
    expect(new URL(page.url()).hash).toBe('#verify-email');
    await expect(page.getByRole('button', { name: 'Send a new link' }).isVisible()).resolves.toBe(true);

    // 4. The e-mail link, read from the development outbox.
    await t.app.verity.outbox.drain();
    await page.goto(`/dev/outbox?to=${encodeURIComponent(user.email)}`);
    await step(page, width, 5, 'outbox-email');
    const href = new URL((await page.locator('a[href*="/verify-email?token="]').first().getAttribute('href'))!);
    // E-mail links point at PUBLIC_URL; follow the same path on the test server.
    await page.goto(href.pathname + href.search);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('E-mail verified');
    await step(page, width, 6, 'email-verified');
    await page.getByRole('link', { name: 'Go to your account' }).click();
    await page.waitForURL('**/account');
    expect((await canDo(page)).post_job).toEqual(['not yet', 'Verify your phone number']);

    // 5. Phone verification, reached from the panel.
    await page.getByTestId('can-do').getByRole('link', { name: 'Verify your phone number' }).first().click();
    await page.waitForURL('**/account/phone');
    await step(page, width, 7, 'phone');
    await page.getByLabel('Phone number').fill(phone);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.waitForLoadState();
    await t.app.verity.outbox.drain();
    const res = await page.request.get(`/v1/dev/outbox?to=${encodeURIComponent(e164)}`);
    const [sms] = (await res.json()) as Array<{ body: string }>;
    const code = /\b(\d{6})\b/.exec(sms!.body)![1]!;
    await step(page, width, 8, 'phone-code-sent');
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState();
    expect(await page.getByTestId('phone-verified').textContent()).toBe('verified');
    await step(page, width, 9, 'phone-verified');

    // 6. Back on the account page: jobs and proposals are open; payments still ask for more.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
    await page.waitForURL('**/account');
    const after = await canDo(page);
    expect(after.post_job).toEqual(['allowed']);
    expect(after.submit_proposal).toEqual(['allowed']);
    expect(after.view_payments![0]).toBe('not yet');
    expect(after.view_payments!.join(' ')).not.toMatch(/e-mail|phone/);
    await page.getByTestId('can-do').scrollIntoViewIfNeeded();
    await step(page, width, 10, 'account-can-do');

    // 7. The security page, three hours and a phone sign-in later: each device in words, fitting the screen.
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
    t.clock.advanceSeconds(3 * 3600);
    const other = await t.app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'user-agent': iphone }, payload: { login: user.username, password: user.password } });
    expect(other.statusCode).toBe(200);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security' }).click();
    await page.waitForURL('**/account/security');
    const sessions = page.getByTestId('session');
    const seen = await Promise.all((await sessions.all()).map(async (s) => `${await s.getByTestId('session-device').textContent()}, ${await s.getByTestId('session-signed-in').textContent()}`));
    expect(seen.sort()).toEqual(['Chrome on Linux, 3 hours ago', 'Safari on iOS, just now']);
    expect(await page.locator('[data-current="true"]').getByTestId('session-device').textContent()).toBe('Chrome on Linux');
    await expect(page.getByRole('button', { name: /^Sign out Safari on iOS/ }).isVisible()).resolves.toBe(true);
    await step(page, width, 11, 'security');
  });
});
