import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';
import { axeViolations, browserAvailable, expectAccessible, launchBrowser, listen, newPage } from '../helpers/browser.js';
import { signUpAdmin } from '../help/support.js';
import { feedWith, putFeed, targeted } from '../notices/support.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];
let memberToken: string;
let adminToken: string;

async function browse(token: string | null): Promise<Page> {
  const { context, page } = await newPage(browser, baseURL);
  open.push(context);
  if (token) await context.addCookies([{ name: 'verity_session', value: token, url: baseURL, httpOnly: true, sameSite: 'Lax' }]);
  return page;
}

/** Each page, as the viewer who can see it, in a state worth checking (errors shown, lists filled). */
const pages: Array<[string, 'visitor' | 'member' | 'admin', ((page: Page) => Promise<void>)?]> = [
  ['/', 'visitor'],
  ['/signup', 'visitor'],
  ['/signup', 'visitor', async (page) => {
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForLoadState();
  }],
  ['/login', 'visitor'],
  ['/login', 'visitor', async (page) => {
    await page.getByLabel('Username or e-mail').fill('nobody');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
  }],
  ['/verify-email?token=not-a-token', 'visitor'],
  ['/help', 'visitor'],
  ['/help?q=phone', 'visitor'],
  ['/help/forgot-password', 'visitor'],
  ['/dev/outbox', 'visitor'],
  ['/no-such-page', 'visitor'],
  // /docs is Swagger UI's own markup (nested buttons, its colours), for developers; it is not checked here.
  ['/account', 'member'],
  ['/account', 'member', async (page) => {
    await page.getByLabel('Freelancer', { exact: false }).first().uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForLoadState();
  }],
  ['/account/phone', 'member'],
  ['/account/phone', 'member', async (page) => {
    await page.getByLabel('Phone number').fill('12');
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.waitForLoadState();
  }],
  ['/account/security', 'member'],
  ['/admin', 'admin'],
  ['/admin/notices', 'admin'],
  ['/admin/articles', 'admin'],
  ['/admin/articles/new', 'admin'],
  ['/admin/articles/forgot-password', 'admin'],
  ['/admin/voip-ranges', 'admin'],
];

describe.skipIf(!browserAvailable)('every page passes axe-core (no serious or critical violations)', () => {
  beforeAll(async () => {
    t = await createTestApp();
    baseURL = await listen(t);
    browser = await launchBrowser();
    memberToken = (await signUp(t, { country: 'PH', roles: ['freelancer'] })).token;
    const admin = await signUpAdmin(t);
    adminToken = admin.token;
    // Banners of each kind, so their colours are checked too.
    const res = await putFeed(t, admin.token, feedWith([targeted({ message: 'Withdrawal codes are delayed.', icon: 'warning' })], { message: 'We are upgrading tonight.', icon: 'info' }));
    if (res.statusCode !== 200) throw new Error(res.body);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(async () => {
    for (const context of open.splice(0)) await context.close();
  });

  it.each(pages.map(([path, who, act], i) => [`${path} as ${who}${act ? ' after a refused form' : ''}`, i] as const))('%s', async (_name, i) => {
    const [path, who, act] = pages[i]!;
    const page = await browse(who === 'visitor' ? null : who === 'member' ? memberToken : adminToken);
    await page.goto(path);
    expect(new URL(page.url()).pathname).toBe(path.split('?')[0]);
    await act?.(page);
    const found = await axeViolations(page);
    expect(found.map((v) => `${v.impact} ${v.id}: ${v.help} ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`)).toEqual([]);
  });

  it('finds what it should: the check fails on an unlabelled field and an image without text', async () => {
    const page = await browse(null);
    await page.goto('/');
    await page.evaluate(() => {
      const main = document.getElementById('main')!;
      main.insertAdjacentHTML('beforeend', '<input type="text" name="nameless"><img src="/static/favicon.svg">');
    });
    expect((await axeViolations(page)).map((v) => v.id).sort()).toEqual(['image-alt', 'label']);
    await expect(expectAccessible(page)).rejects.toThrow(/critical label: Form elements must have labels/);
  });

  it('signs up with the keyboard alone: fields in reading order, Space ticks, Enter sends, and a refusal puts the focus on the field', async () => {
    const page = await browse(null);
    await page.goto('/signup');
    const focusOrder: string[] = [];
    for (let i = 0; i < 16; i += 1) {
      await page.keyboard.press('Tab');
      focusOrder.push(await page.evaluate(() => {
        const el = document.activeElement as HTMLInputElement | null;
        return el?.id || (el?.name && el.value ? `${el.name}=${el.value}` : '') || el?.textContent?.trim() || '';
      }));
    }
    const form = focusOrder.slice(focusOrder.indexOf('f-email'), focusOrder.lastIndexOf('Create account') + 1);
    expect(form).toEqual(['f-email', 'f-username', 'f-fullName', 'f-password', 'f-country', 'roles=freelancer', 'roles=client', 'roles=agency', 'Create account']);
    expect(focusOrder.slice(0, 5)).toEqual(['Skip to content', 'Verity', 'Help', 'Sign in', 'Create account']);

    const user = uniqueUser('keys');
    await page.locator('#f-email').focus();
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(user.username);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.type('short');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Philippines'); // a focused list picks the option typed
    await page.keyboard.press('Tab'); // freelancer, ticked already
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space'); // client
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab'); // the button
    const refused = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/signup');
    const loaded = page.waitForEvent('load'); // of the page the refusal renders, not the one left behind
    await page.keyboard.press('Enter');
    expect((await refused).status()).toBeGreaterThanOrEqual(400);
    await loaded;

    // The refusal: the title says so, the keyboard is on the password, its message is its description.
    expect(await page.title()).toMatch(/^Error: /);
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement;
      const described = (el.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent?.trim());
      return { id: el.id, invalid: el.getAttribute('aria-invalid'), described };
    });
    expect(focused.id).toBe('f-password');
    expect(focused.invalid).toBe('true');
    expect(focused.described.at(-1)).toMatch(/10 characters/);
    await expectAccessible(page);
    expect(await page.locator('input[name=roles][value=client]').isChecked()).toBe(true);
    expect(await page.getByLabel('Country').inputValue()).toBe('PH');

    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/account');
    await expectAccessible(page);
  });
});
