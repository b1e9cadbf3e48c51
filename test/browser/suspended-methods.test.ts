import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { auth, createTestApp, lastMessage, linkToken, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';
import { addAuthenticator } from '../twostep/helpers.js';

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

const NEW_PASSWORD = 'paper boats on a rainy street';

function post(url: string, payload?: object, token?: string) {
  return t.app.inject({ method: 'POST', url, headers: token ? auth(token) : {}, remoteAddress: randomIp(), ...(payload ? { payload } : {}) });
}

/** Backup codes made 30 h before "this wasn't me", an authenticator app 2 h before it; then the reset. */
async function lockedWithRecentApp() {
  const member = await signUp(t);
  const codes = (await post('/v1/me/two-step/backup-codes', undefined, member.token)).json().codes as string[];
  t.clock.advance(28 * 3600_000);
  const login = (await post('/v1/sessions', { login: member.username, password: member.password })).json();
  const token = (await post(`/v1/challenges/${login.challenge.id}/verify`, { method: 'backup_code', code: codes[0] })).json().session.token as string;
  const step = (await post('/v1/me/step-up', undefined, token)).json().challenge;
  expect((await post(`/v1/challenges/${step.id}/verify`, { method: 'backup_code', code: codes[1] }, token)).statusCode).toBe(200);
  await addAuthenticator(t, { ...member, token });
  t.clock.advance(2 * 3600_000);
  const notMe = linkToken((await lastMessage(t, member.email))!.body, '/recover/not-me');
  expect((await post(`/v1/recovery/not-me/${notMe}`)).statusCode).toBe(200);
  await post('/v1/recovery/password', { login: member.username });
  const link = linkToken((await lastMessage(t, member.email))!.body, '/recover/password');
  const check = (await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${link}` })).json().challenge;
  expect((await post(`/v1/challenges/${check.id}/verify`, { method: 'backup_code', code: codes[2] })).statusCode).toBe(200);
  expect((await post(`/v1/recovery/password/${link}`, { newPassword: NEW_PASSWORD })).statusCode).toBe(200);
  return { member, codes };
}

describe.skipIf(!browserAvailable)('a suspended method on /account/security in Chromium', () => {
  it('is shown as suspended with Confirm (after a step-up) and Remove', async () => {
    const { member, codes } = await lockedWithRecentApp();
    const { context, page } = await newPage(browser, baseURL);
    const errors: string[] = [];
    watchConsole(page, errors);
    await signInByForm(page, member.username, NEW_PASSWORD);
    await page.getByLabel('Code', { exact: true }).fill(codes[3]!);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/account');
    await page.goto('/account/security#two-step');
    const app = page.locator('[data-testid="method"][data-type="totp"]');
    await app.getByText('suspended', { exact: true }).waitFor();
    expect(await app.getAttribute('data-suspended')).not.toBeNull();
    expect(await page.getByTestId('two-step-recommendation').textContent()).toMatch(/on hold/);
    await expectAccessible(page);
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: `${process.env.SHOT_DIR ?? '/tmp'}/security-suspended-${width}.png`, fullPage: true });
    }

    await app.getByRole('button', { name: /^Confirm/ }).click();
    await page.waitForURL('**/account/step-up?next=%2Faccount%2Fsecurity');
    const methods = await page.locator('body').textContent();
    expect(methods).not.toMatch(/authenticator app/i);
    await page.getByLabel('Code', { exact: true }).fill(codes[4]!);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/account/security');
    await page.locator('[data-testid="method"][data-type="totp"]').getByRole('button', { name: /^Confirm/ }).click();
    await page.waitForURL('**/account/security?twostep=confirmed#two-step');
    await page.getByText('The method is confirmed and can be used again.').waitFor();
    expect(await page.locator('[data-testid="method"][data-suspended]').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
