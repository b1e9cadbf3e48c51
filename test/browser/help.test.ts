import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage } from '../helpers/browser.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];

async function visit(path: string): Promise<Page> {
  const { context, page } = await newPage(browser, baseURL);
  open.push(context);
  await page.goto(path);
  return page;
}

describe.skipIf(!browserAvailable)('the help center in a browser', () => {
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
  });

  it('searches from /help, opens an article, votes, and sees the count change', async () => {
    const page = await visit('/help');
    await expectAccessible(page);
    await page.getByLabel('Search the help center').fill('cant login');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/help\?q=cant\+login$/);
    await expectAccessible(page);
    const first = page.getByTestId('results').getByRole('link').first();
    await expect(first.textContent()).resolves.toBe("I forgot my password or can't sign in");

    await first.click();
    await page.waitForURL(/\/help\/forgot-password$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe("I forgot my password or can't sign in");
    await expect(page.getByRole('link', { name: 'Reset your password' }).first().getAttribute('href')).resolves.toBe('/recover/password');
    await expect(page.getByTestId('votes').textContent()).resolves.toBe('No one has rated this article yet.');
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Yes' }).click();
    await page.waitForURL(/\/help\/forgot-password\?voted=1#feedback$/);
    await expect(page.getByTestId('votes').textContent()).resolves.toBe('1 out of 1 found this helpful');
    await expect(page.getByRole('status').filter({ hasText: 'Thank you for your feedback.' }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Yes' }).getAttribute('aria-pressed')).resolves.toBe('true');
    await expectAccessible(page);

    // A changed mind changes the vote, not the number of votes.
    await page.getByRole('button', { name: 'No' }).click();
    await page.waitForLoadState();
    await expect(page.getByTestId('votes').textContent()).resolves.toBe('0 out of 1 found this helpful');

    // Another visitor adds a vote of their own.
    const other = await visit('/help/forgot-password');
    await other.getByRole('button', { name: 'Yes' }).click();
    await other.waitForURL(/voted=1/);
    await expect(other.getByTestId('votes').textContent()).resolves.toBe('1 out of 2 found this helpful');
  });

  it('follows related articles', async () => {
    const page = await visit('/help/lost-phone');
    await page.getByRole('region', { name: 'Related articles' }).getByRole('link', { name: 'How to contact support' }).click();
    await page.waitForURL(/\/help\/contact-support$/);
    await expect(page.getByRole('link', { name: 'contact form' }).getAttribute('href')).resolves.toBe('/support/contact');
    await expectAccessible(page);
  });
});
