import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, lastMessage, signUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';
import { lastCode, phMobile, settle, verifyNumber } from '../phone/helpers.js';
import { staff } from '../agent/helpers.js';

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

async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    if (process.env.SHOT_DIR) await page.screenshot({ path: `${process.env.SHOT_DIR}/${name}-${width}.png`, fullPage: true });
  }
}

describe.skipIf(!browserAvailable)("the agents' desk in Chromium", () => {
  it('goes from the queue to a compromise case, assigns it, notes it and locks the account', async () => {
    const { agent } = await staff(t);
    const member = await signUp(t);
    const report = await t.app.inject({ method: 'POST', url: '/v1/recovery/compromised', payload: { login: member.username, contactEmail: 'friend@example.com', details: 'My friend says odd messages come from my account.' } });
    expect(report.statusCode).toBe(202);

    const { context, page } = await newPage(browser, baseURL);
    const errors: string[] = [];
    watchConsole(page, errors);
    await signInByForm(page, agent.username, agent.password, '/login?next=%2Fagent');
    await page.waitForURL('**/agent');
    expect(await page.getByTestId('queue-row').count()).toBe(1);
    await expectAccessible(page);
    await shoot(page, 'agent-queue');

    await page.getByRole('link', { name: 'Compromised account' }).click();
    await page.waitForURL('**/agent/cases/*');
    await page.getByLabel('Assign to').selectOption('me');
    await page.getByRole('button', { name: 'Save assignment' }).click();
    await page.getByText('Assignment saved.').waitFor();
    expect(await page.getByTestId('case-assignee').textContent()).toBe(agent.username);
    await page.getByLabel('New note').fill('Spoke to the member: they did not send those messages.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByText('Note added.').waitFor();
    expect(await page.getByTestId('note').count()).toBe(1);
    await expectAccessible(page);
    await shoot(page, 'agent-case');

    await page.getByTestId('case-account').click();
    await page.waitForURL(`**/agent/accounts/${member.id}`);
    await page.getByRole('button', { name: 'Lock the account' }).click();
    // The reason is required: the refusal is said beside the field, nothing locked.
    await page.getByText('Why lock it').waitFor();
    expect(await page.locator('#f-reason-error').count()).toBe(1);
    await page.getByLabel('Why lock it (kept in the audit log)').fill('Messages sent by someone else');
    await page.getByRole('button', { name: 'Lock the account' }).click();
    await page.getByText('The account is locked').waitFor();
    expect(await page.getByTestId('account-status').textContent()).toBe('locked');
    await expectAccessible(page);
    await shoot(page, 'agent-account');

    const signIn = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password } });
    expect(signIn.statusCode).toBe(423);
    expect((await lastMessage(t, member.email))?.subject).toBe('Our support team locked your Verity account');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the member the claim page and their security events', async () => {
    const number = phMobile();
    const holder = await signUp(t);
    await verifyNumber(t, holder, number);
    const member = await signUp(t);
    const { context, page } = await newPage(browser, baseURL);
    const errors: string[] = [];
    watchConsole(page, errors);
    await signInByForm(page, member.username, member.password, '/login?next=%2Faccount%2Fphone');
    await page.waitForURL('**/account/phone');
    await page.getByLabel('Phone number').fill(number);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByTestId('phone-in-use').waitFor();
    await page.getByRole('link', { name: 'This number is mine now' }).click();
    await page.waitForURL('**/account/phone/claim?phone=*');
    expect(await page.getByLabel('Phone number').inputValue()).toBe(number);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.waitForURL('**/account/phone/claim?sent=1');
    await expectAccessible(page);
    await shoot(page, 'phone-claim');
    await settle(t);
    await page.getByLabel('Code').fill(await lastCode(t, number));
    await page.getByRole('button', { name: 'Send my request' }).click();
    await page.waitForURL('**/account/security?done=claim*');
    await page.getByText('Your request is filed.').waitFor();
    expect(await page.getByTestId('my-requests').textContent()).toContain('Phone number claim: Open');
    await page.locator('#events-title').scrollIntoViewIfNeeded();
    await expectAccessible(page);
    await shoot(page, 'security-events');
    expect(await page.content()).not.toContain(holder.username);
    expect(errors).toEqual([]);
    await context.close();
  });
});
