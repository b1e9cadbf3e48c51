import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';
import { answerLink, memberWithQuestion, NEW, NEW_TEXT } from '../forgot-answer/helpers.js';

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

/** Checks the page with axe and, with SHOT_DIR set, saves it at phone and desktop widths. */
async function look(page: Page, name: string): Promise<void> {
  await expectAccessible(page);
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    if (process.env.SHOT_DIR) await page.screenshot({ path: `${process.env.SHOT_DIR}/forgot-answer-${name}-${width}.png`, fullPage: true });
  }
}

describe.skipIf(!browserAvailable)('"Forgot your answer?" in Chromium', () => {
  it('from the sign-in step to a new answer and back, which then signs in', async () => {
    const member = await memberWithQuestion(t);
    const { context, page } = await newPage(browser, baseURL);
    const errors: string[] = [];
    watchConsole(page, errors);
    await signInByForm(page, member.username, member.password);
    await page.waitForURL('**/login/verify?next=*');
    await page.getByText('What was the name of your first pet?').waitFor();
    await look(page, 'asking');

    await page.getByRole('button', { name: 'Forgot your answer?' }).click();
    await page.waitForURL('**/recover/security-answer/sent');
    await page.getByText('We sent you a link').waitFor();
    await look(page, 'sent');

    await page.goto(`/recover/security-answer/${await answerLink(t, member)}`);
    await look(page, 'form');
    await page.getByLabel('Question').selectOption(NEW.question);
    await page.getByLabel('Your new answer').fill('ab');
    await page.getByRole('button', { name: 'Save the new answer' }).click();
    await page.getByText('Use at least 3 characters.').waitFor();
    expect(await page.getByLabel('Question').inputValue()).toBe(NEW.question);
    await look(page, 'form-error');
    await page.getByLabel('Your new answer').fill(NEW.answer);
    await page.getByRole('button', { name: 'Save the new answer' }).click();
    await page.waitForURL('**/recover/security-answer/done');
    await look(page, 'done');

    await page.getByRole('link', { name: 'Continue' }).click();
    await page.waitForURL('**/login/verify?*method=security_question');
    await page.getByText(NEW_TEXT).waitFor();
    await page.getByLabel('Your answer').fill(NEW.answer);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/account');

    await page.goto('/recover/security-answer/not-a-real-link');
    await page.getByText('Link expired or invalid').first().waitFor();
    await look(page, 'invalid');
    expect(errors).toEqual([]);
    await context.close();
  });
});
