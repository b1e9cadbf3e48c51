import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';

// Browser globals used inside page.evaluate: this file is compiled without the DOM library.
declare const document: { activeElement: unknown };
declare function getComputedStyle(element: unknown): { color: string };

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];
/** Console errors (a CSP violation is reported there, not as a page error) and failed subresources. */
let consoleErrors: string[] = [];

async function visit(path = '/'): Promise<Page> {
  const { context, page } = await newPage(browser, baseURL);
  open.push(context);
  // Failed subresources are caught below.
  watchConsole(page, consoleErrors);
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document' && response.status() >= 400) consoleErrors.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(path);
  return page;
}

async function fillSignUp(page: Page, user: ReturnType<typeof uniqueUser>) {
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByLabel('Country').selectOption('PH');
  await page.getByLabel('Client: I hire').check();
}

async function signInWith(page: Page, login: string, password: string) {
  await signInByForm(page, login, password);
  await page.waitForLoadState();
}

describe.skipIf(!browserAvailable)('the foundation in a browser', () => {
  beforeAll(async () => {
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

  it('signs up, verifies the e-mail from the outbox, signs out and signs in again', async () => {
    const user = uniqueUser('browser');
    const page = await visit('/signup');
    await fillSignUp(page, user);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/account');
    expect(await page.getByTestId('username').textContent()).toBe(user.username);
    expect(await page.getByText('not verified').count()).toBe(1);

    await t.app.verity.outbox.drain();
    await page.goto(`/dev/outbox?to=${encodeURIComponent(user.email)}`);
    const link = page.locator('a[href*="/verify-email?token="]');
    expect(await link.count()).toBe(1);
    // E-mail links point at PUBLIC_URL; follow the same path on the test server.
    const href = new URL((await link.getAttribute('href'))!);
    await page.goto(href.pathname + href.search);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('E-mail verified');
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Go to your account' }).click();
    await page.waitForURL('**/account');
    expect(await page.getByText('not verified').count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${baseURL}/`);
    expect(await page.getByRole('link', { name: 'Sign in' }).count()).toBeGreaterThan(0);
    await page.goto('/account');
    expect(new URL(page.url()).pathname).toBe('/login');

    await page.getByLabel('Username or e-mail').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/account');
    expect(await page.getByTestId('username').textContent()).toBe(user.username);
  });

  it('shows a failed sign-in beside the field, keeps the login and clears the password', async () => {
    const member = await signUp(t);
    const page = await visit('/login');
    await signInWith(page, member.username, 'definitely not it');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.title()).toMatch(/^Error: /);
    const password = page.getByLabel('Password');
    expect(await password.getAttribute('aria-invalid')).toBe('true');
    expect(await password.inputValue()).toBe('');
    const describedBy = (await password.getAttribute('aria-describedby'))!.split(' ');
    const message = await page.locator(`#${describedBy.at(-1)}`).textContent();
    expect(message).toBe('The username, e-mail or password is not right.');
    expect(await page.getByLabel('Username or e-mail').inputValue()).toBe(member.username);
    await expectAccessible(page);
  });

  it('keeps the input of a refused sign-up, explains the error and looks like a product', async () => {
    const taken = await signUp(t);
    const user = { ...uniqueUser('browser'), username: taken.username };
    const page = await visit('/signup');
    await page.setViewportSize({ width: 1000, height: 1100 });
    await fillSignUp(page, user);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForLoadState();
    const username = page.getByLabel('Username');
    expect(await username.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#f-username-error').textContent()).toBe('This username is taken. Please choose another.');
    expect(await page.getByLabel('E-mail').inputValue()).toBe(user.email);
    expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('');
    expect(await page.getByLabel('Client: I hire').isChecked()).toBe(true);
    expect(await page.getByLabel('Country').inputValue()).toBe('PH');
    const color = await page.locator('#f-username-error').evaluate((el) => getComputedStyle(el).color);
    expect(color).toBe('rgb(180, 35, 24)'); // the stylesheet loaded under the CSP
    await expectAccessible(page);
    const dir = join(process.cwd(), '.test-cache');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'signup-error.png'), fullPage: true });
  });

  it.each(['/', '/signup', '/login', '/dev/outbox', '/account', '/account/security', '/admin'])('labels every control on %s, and axe finds nothing serious', async (path) => {
    const page = await visit('/signup');
    if (path.startsWith('/account') || path === '/admin') {
      const member = await signUp(t);
      await signInWith(page, member.username, member.password);
    }
    await page.goto(path);
    expect(new URL(page.url()).pathname).toBe(path);
    const unlabelled = await page.locator('input:not([type=hidden]), select, textarea').evaluateAll((controls) =>
      controls
        .filter((el) => !((el as unknown as { labels?: { length: number } }).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
        .map((el) => el.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    // Every form has exactly one submit button.
    const buttons = await page.locator('form').evaluateAll((forms) => forms.map((f) => f.querySelectorAll('button, input[type=submit]').length));
    expect(buttons.every((n) => n === 1)).toBe(true);
    await expectAccessible(page);
  });

  it('works from the keyboard: skip link first, fields in order, Enter submits', async () => {
    const member = await signUp(t);
    const page = await visit('/login');
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
    const box = await skip.boundingBox();
    expect(box && box.x >= 0 && box.y >= 0).toBe(true); // visible when focused
    await page.getByLabel('Username or e-mail').focus();
    await page.keyboard.type(member.username);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as { id?: string } | null)?.id)).toBe('f-password');
    await page.keyboard.type(member.password);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/account');
    expect(await page.getByTestId('username').textContent()).toBe(member.username);
  });
});
