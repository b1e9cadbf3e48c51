import { createServer, type AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteUrl } from '../../src/platform/start-log.js';
import { createTestApp, uniqueUser, type TestApp } from '../helpers/app.js';
import { browserAvailable, launchBrowser, newPage } from '../helpers/browser.js';

/** Every console error, "Failed to load resource" (a 404 favicon, say) included, and every failed response. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
  });
  return errors;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

let t: TestApp;
let browser: Browser;
let site: string;

// The app as `npm start` configures it: PORT set, HOST and PUBLIC_URL left to their defaults.
beforeAll(async () => {
  if (!browserAvailable) return;
  t = await createTestApp({ env: { PORT: String(await freePort()), PUBLIC_URL: '' } });
  await t.app.listen({ port: t.config.port, host: t.config.host });
  site = siteUrl(t.config, t.app.server.address());
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe.skipIf(!browserAvailable)('the first minutes in a browser', () => {
  it('binds 127.0.0.1 but sends people to localhost, and the e-mail link opens signed in', async () => {
    expect(t.config.host).toBe('127.0.0.1');
    expect(site).toBe(`http://localhost:${t.config.port}`);
    const { context, page } = await newPage(browser, site);
    const errors = collectErrors(page);
    const user = uniqueUser('first');
    await page.goto('/signup');
    await page.getByLabel('E-mail').fill(user.email);
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByLabel('Country').selectOption('PH');
    await page.getByLabel('Client: I hire').check();
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/account');

    await t.app.verity.outbox.drain();
    await page.goto(`/dev/outbox?to=${encodeURIComponent(user.email)}`);
    const href = (await page.locator('a[href*="/verify-email?token="]').getAttribute('href'))!;
    // The link as written in the e-mail, host and all: the cookie set on the logged address goes with it.
    expect(new URL(href).origin).toBe(site);
    await page.goto(href);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('E-mail verified');
    expect(await page.getByTestId('sign-out').count()).toBe(1);
    await page.goto('/account');
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await page.getByText('not verified').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('renders /docs under the site\'s own CSP without a console error', async () => {
    const home = await t.app.inject({ method: 'GET', url: '/login' });
    const docs = await t.app.inject({ method: 'GET', url: '/docs' });
    // Not swagger-ui's own, looser policy: the same header as every page of the site.
    expect(docs.headers['content-security-policy']).toBe(home.headers['content-security-policy']);
    expect(docs.headers['content-security-policy']).toMatch(/style-src 'self'(;|$)/);

    const { context, page } = await newPage(browser, site);
    const errors = collectErrors(page);
    await page.goto('/docs');
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Verity API' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    expect(await page.title()).toBe('Verity API');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('has an icon: linked from every page, and at /favicon.ico for answers that name none', async () => {
    const ico = await t.app.inject({ method: 'GET', url: '/favicon.ico' });
    expect(ico.statusCode).toBe(200);
    expect(ico.headers['content-type']).toMatch(/^image\/(x-icon|vnd\.microsoft\.icon)/);
    expect(ico.rawPayload.subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0]));

    const { context, page } = await newPage(browser, site);
    const errors = collectErrors(page);
    await page.goto('/login');
    const icons = await page.locator('link[rel="icon"]').evaluateAll((links) => links.map((l) => l.getAttribute('href')));
    expect(icons).toEqual(['/favicon.ico', '/static/favicon.svg']);
    for (const href of icons) expect((await page.request.get(href!)).status()).toBe(200);
    // A JSON answer names no icon, so Chromium asks for /favicon.ico (a 404 would be logged).
    await page.goto('/openapi.json');
    await page.goto('/login');
    expect(errors).toEqual([]);
    await context.close();
  });
});
