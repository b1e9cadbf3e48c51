import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage } from '../helpers/browser.js';
import { signUpAdmin } from '../help/support.js';
import { feedWith, putFeed, targeted } from '../notices/support.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];

/** A browser signed in as the member with this session token (the cookie the login page sets). */
async function signedIn(token: string | null, headers: Record<string, string> = {}): Promise<Page> {
  const { context, page } = await newPage(browser, baseURL);
  open.push(context);
  if (token) await context.addCookies([{ name: 'verity_session', value: token, url: baseURL, httpOnly: true, sameSite: 'Lax' }]);
  await context.setExtraHTTPHeaders(headers);
  return page;
}

const TARGETED = 'Withdrawal codes are delayed for freelancers in the Philippines.';
/** The two banners below at 390 px: over 150 px before they were made compact, about 90 px after. */
const NOTICES_MAX_HEIGHT_390 = 125;

describe.skipIf(!browserAvailable)('notice banners in a browser', () => {
  beforeAll(async () => {
    t = await createTestApp();
    baseURL = await listen(t);
    browser = await launchBrowser();
    const admin = await signUpAdmin(t);
    const res = await putFeed(t, admin.token, feedWith([targeted({ message: TARGETED, icon: 'warning' })], { message: 'We are upgrading our systems tonight.', icon: 'info' }));
    if (res.statusCode !== 200) throw new Error(res.body);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(async () => {
    for (const context of open.splice(0)) await context.close();
  });

  it('shows the targeted banner, with its icon, to a PH freelancer', async () => {
    const member = await signUp(t, { country: 'PH', roles: ['freelancer'] });
    const page = await signedIn(member.token);
    for (const path of ['/', '/account', '/help']) {
      await page.goto(path);
      const banners = page.getByRole('region', { name: 'Notices' });
      const warning = banners.getByRole('alert');
      await expect(warning.textContent()).resolves.toContain(TARGETED);
      await expect(warning.getAttribute('data-scope')).resolves.toBe('targeted');
      await expect(warning.locator('.notice-icon.icon-warning').count()).resolves.toBe(1);
      await expect(banners.getByRole('status').textContent()).resolves.toContain('We are upgrading our systems tonight.');
      await expectAccessible(page); // the banners' colours too
    }
    // The icons are drawn by the stylesheet: a visible badge with a glyph for each kind.
    const icon = (kind: string) =>
      page.locator(`.notice-icon.icon-${kind}`).evaluate((el) => {
        const box = el.getBoundingClientRect();
        return { glyph: getComputedStyle(el, '::before').content, width: Math.round(box.width), background: getComputedStyle(el).backgroundColor };
      });
    const warningIcon = await icon('warning');
    const infoIcon = await icon('info');
    expect(warningIcon.glyph).toBe('"!"');
    expect(infoIcon.glyph).toBe('"i"');
    expect(warningIcon.width).toBeGreaterThan(10);
    expect(warningIcon.background).not.toBe(infoIcon.background);
  });

  it('does not show it to a US client, who still sees the global notice', async () => {
    const member = await signUp(t, { country: 'US', roles: ['client'] });
    const page = await signedIn(member.token);
    await page.goto('/');
    await expect(page.getByText(TARGETED).count()).resolves.toBe(0);
    await expect(page.getByRole('region', { name: 'Notices' }).getByRole('status').textContent()).resolves.toContain('We are upgrading our systems tonight.');
  });

  it('uses the edge country for a visitor who is not signed in', async () => {
    const member = await signUp(t, { country: 'PH', roles: ['freelancer', 'client'] });
    const fromPh = await signedIn(null, { 'cf-ipcountry': 'PH' });
    await fromPh.goto('/help');
    await expect(fromPh.getByText(TARGETED).count()).resolves.toBe(0); // not known to be a freelancer
    const both = await signedIn(member.token, { 'cf-ipcountry': 'US' });
    await both.goto('/help');
    await expect(both.getByText(TARGETED).count()).resolves.toBe(1); // the account's country wins
  });

  it('lets a member put a notice away at 390 px without JavaScript, and it stays away on the next pages', async () => {
    const member = await signUp(t, { country: 'PH', roles: ['freelancer'] });
    const context = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
    open.push(context);
    await context.addCookies([{ name: 'verity_session', value: member.token, url: baseURL, httpOnly: true, sameSite: 'Lax' }]);
    const page = await context.newPage();
    await page.goto('/account');
    const banners = page.getByRole('region', { name: 'Notices' });
    // Compact on a phone: two short notices fit in well under a fifth of the screen.
    const box = await banners.boundingBox();
    expect(box!.height).toBeLessThan(NOTICES_MAX_HEIGHT_390);
    expect(box!.width).toBeLessThanOrEqual(390);
    const font = await banners.locator('.notice p').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(font).toBeLessThan(16);

    const close = banners.getByRole('alert').getByRole('button', { name: 'Dismiss this notice' });
    const size = await close.boundingBox();
    expect(Math.min(size!.width, size!.height)).toBeGreaterThanOrEqual(24); // a touch target
    const back = page.waitForResponse((r) => new URL(r.url()).pathname === '/account' && r.request().method() === 'GET');
    await close.click();
    await back;
    await page.waitForLoadState();
    expect(new URL(page.url()).pathname).toBe('/account');
    await expect(banners.getByRole('alert').count()).resolves.toBe(0);
    await expect(page.getByText(TARGETED).count()).resolves.toBe(0);
    await expect(banners.getByRole('status').textContent()).resolves.toContain('We are upgrading our systems tonight.');
    for (const path of ['/help', '/account/security']) {
      await page.goto(path);
      await expect(page.getByText(TARGETED).count(), path).resolves.toBe(0);
    }
  });

  it('lets a visitor who is not signed in put a notice away at 1280 px, by keyboard too', async () => {
    const page = await signedIn(null);
    await page.goto('/help');
    const status = page.getByRole('region', { name: 'Notices' }).getByRole('status');
    await expect(status.textContent()).resolves.toContain('We are upgrading our systems tonight.');
    await expectAccessible(page); // the banner and its button
    await status.getByRole('button', { name: 'Dismiss this notice' }).focus();
    const back = page.waitForResponse((r) => new URL(r.url()).pathname === '/help' && r.request().method() === 'GET');
    await page.keyboard.press('Enter');
    await back;
    await page.waitForLoadState();
    await expect(page.getByText('We are upgrading our systems tonight.').count()).resolves.toBe(0);
    await expect(page.locator('.notices').count()).resolves.toBe(0);
    await page.goto('/');
    await expect(page.getByText('We are upgrading our systems tonight.').count()).resolves.toBe(0);
  });
});

