import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createTestApp, lastMessage, signUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
beforeAll(async () => {
  if (!browserAvailable) return;
  t = await createTestApp();
  baseURL = await listen(t);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe.skipIf(!browserAvailable)('the step-up page in Chromium', () => {
  it('asks for the password before an e-mail change, then the change goes through', async () => {
    const member = await signUp(t);
    const { context, page } = await newPage(browser, baseURL);
    const errors: string[] = [];
    watchConsole(page, errors);
    await signInByForm(page, member.username, member.password);
    await page.goto('/account/email');
    const fresh = `moved-${member.email}`;
    await page.getByLabel('New e-mail address').fill(fresh);
    await page.getByRole('button', { name: 'Send a confirmation link' }).click();
    await page.waitForURL('**/account/step-up?next=%2Faccount%2Femail');
    await expectAccessible(page);
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      if (process.env.SHOT_DIR) await page.screenshot({ path: `${process.env.SHOT_DIR}/step-up-${width}.png`, fullPage: true });
    }
    await page.getByLabel('Your password').fill('not the password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('The password is not right.').waitFor();
    if (process.env.SHOT_DIR) await page.screenshot({ path: `${process.env.SHOT_DIR}/step-up-error.png`, fullPage: true });
    await page.getByLabel('Your password').fill(member.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/account/email');
    await page.getByLabel('New e-mail address').fill(fresh);
    await page.getByRole('button', { name: 'Send a confirmation link' }).click();
    await page.waitForURL('**/account/email?sent=1');
    expect(await lastMessage(t, fresh)).toBeDefined();
    expect(errors).toEqual([]);
    await context.close();
  });
});
