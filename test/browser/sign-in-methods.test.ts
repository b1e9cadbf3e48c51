import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, lastMessage, linkToken, signUp, stepUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';
import { lastCode, messagesTo, verifyNumber } from '../phone/helpers.js';
import { appCode, call } from '../twostep/helpers.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];
let consoleErrors: string[] = [];

interface Member extends SignedUp {
  totpSecret: string;
  backupCodes: string[];
  phone: string;
}

/** A member with app, text, call, e-mail, question and backup codes on (passkeys: two-step.test.ts). */
async function memberWithMethods(): Promise<Member> {
  const member = await signUp(t);
  // Each method after the first needs a step-up; while 2SV is off the password gives one.
  await stepUp(t, member);
  const mail = await lastMessage(t, member.email);
  await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token: linkToken(mail!.body, '/verify-email?token') } });
  const phone = await verifyNumber(t, member);
  const setup = (await call(t, member, 'POST', '/v1/me/two-step/totp')).json() as { setupId: string; secret: string };
  expect((await call(t, member, 'POST', '/v1/me/two-step/totp/confirm', { setupId: setup.setupId, code: appCode(t, setup.secret) })).statusCode).toBe(200);
  for (const type of ['sms', 'voice', 'email']) expect((await call(t, member, 'POST', `/v1/me/two-step/${type}`)).statusCode).toBe(200);
  expect((await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' })).statusCode).toBe(200);
  const backupCodes = (await call(t, member, 'POST', '/v1/me/two-step/backup-codes')).json().codes as string[];
  return { ...member, totpSecret: setup.secret, backupCodes, phone };
}

/** Password in the /login form, then on /login/verify a method picked from "Try another method". */
async function atMethod(member: Member, label: string): Promise<Page> {
  const { context, page } = await newPage(browser, baseURL);
  open.push(context);
  page.setDefaultTimeout(8000);
  watchConsole(page, consoleErrors);
  await signInByForm(page, member.username, member.password);
  await page.waitForURL('**/login/verify**');
  const others = page.getByRole('heading', { name: 'Try another method' });
  await others.waitFor();
  const list = page.locator('h2:has-text("Try another method") + ul');
  // The method first offered is not in the list; pick any other one, then come back to it.
  if ((await list.getByRole('link', { name: label }).count()) === 0) {
    await list.getByRole('link').first().click();
    await page.waitForURL('**/login/verify?*method=*');
  }
  await list.getByRole('link', { name: label }).click();
  await page.waitForURL('**/login/verify?*method=*');
  expect(await list.getByRole('link', { name: label }).count()).toBe(0);
  await expectAccessible(page);
  return page;
}

/** Asks for a code on a sending method (none is sent before); the page comes back with the code form. */
async function sendCode(page: Page): Promise<void> {
  // Nothing is sent until asked: the page must not claim a code is on its way.
  expect(await page.locator('main').textContent()).toMatch(/We will send a code/);
  expect(await page.getByLabel('Code', { exact: true }).count()).toBe(0);
  await page.getByRole('button', { name: 'Send a code', exact: true }).click();
  await page.waitForURL((url) => url.searchParams.get('sent') === '1');
  await page.getByLabel('Code', { exact: true }).waitFor();
  await expectAccessible(page);
}

async function submit(page: Page, label: 'Code' | 'Your answer', value: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.pathname === '/account');
  expect(await page.locator('h1').textContent()).toBeTruthy();
}

describe.skipIf(!browserAvailable)('the sign-in second step in Chromium, with every method but passkeys', () => {
  let member: Member;
  beforeAll(async () => {
    t = await createTestApp();
    baseURL = await listen(t);
    browser = await launchBrowser();
    member = await memberWithMethods();
    // The step that confirmed the app is spent; the sign-in uses the next one.
    t.clock.advanceSeconds(30);
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

  it('authenticator app', async () => {
    const page = await atMethod(member, 'Your authenticator app');
    await submit(page, 'Code', appCode(t, member.totpSecret));
  });

  it('text message', async () => {
    const page = await atMethod(member, 'A code by text message');
    expect(await page.locator('main').textContent()).toContain(`•••• ${member.phone.slice(-2)}`);
    await sendCode(page);
    await submit(page, 'Code', await lastCode(t, member.phone));
  });

  it('voice call', async () => {
    const page = await atMethod(member, 'A code by phone call');
    await sendCode(page);
    expect((await messagesTo(t, member.phone))[0]?.channel).toBe('voice');
    await submit(page, 'Code', await lastCode(t, member.phone));
  });

  it('e-mail code', async () => {
    const page = await atMethod(member, 'A code by e-mail');
    await sendCode(page);
    const mail = await lastMessage(t, member.email);
    await submit(page, 'Code', /code is (\d{6})/.exec(mail!.body)![1]!);
  });

  it('security question', async () => {
    const page = await atMethod(member, 'Your security question');
    expect(await page.locator('main').textContent()).toContain('What was the name of your first pet?');
    await submit(page, 'Your answer', 'rex');
  });

  it('backup code', async () => {
    const page = await atMethod(member, 'A backup code');
    await submit(page, 'Code', member.backupCodes[0]!);
  });
});
