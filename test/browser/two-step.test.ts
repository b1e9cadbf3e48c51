import { createServer } from 'node:net';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, newPage, signInByForm, watchConsole } from '../helpers/browser.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];
const consoleErrors: string[] = [];

/** A free port, so PUBLIC_URL (the passkeys' origin) can name it before the app starts. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function signedInOnSecurity(who: SignedUp): Promise<Page> {
  const { context, page } = await newPage(browser, baseURL);
  open.push(context);
  watchConsole(page, consoleErrors);
  await signInByForm(page, who.username, who.password, '/login?next=/account/security');
  await page.waitForURL('**/account/security');
  return page;
}

describe.skipIf(!browserAvailable)('two-step verification in a browser', () => {
  beforeAll(async () => {
    const port = await freePort();
    // WebAuthn refuses an IP address as relying party: the site is http://localhost:<port>.
    baseURL = `http://localhost:${port}`;
    t = await createTestApp({ env: { PUBLIC_URL: baseURL, PORT: String(port) } });
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of open) await context.close();
    await browser?.close();
    await t?.close();
  });

  it('adds a passkey with a virtual authenticator, then signs a challenge with it (counter moves on)', async () => {
    const who = await signUp(t);
    const page = await signedInOnSecurity(who);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });

    await page.getByLabel('Name for this passkey').fill('Work laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL('**/account/security?twostep=passkey*');
    await expect.poll(() => page.getByTestId('passkey').allTextContents()).toEqual([expect.stringContaining('Work laptop')]);
    expect(await page.getByTestId('two-step-status').textContent()).toContain('on');

    // The authentication side, as a challenge uses it: options from the service, the browser signs.
    const { passkeys } = t.app.verity.twoStep;
    for (const context of ['browser-1', 'browser-2']) {
      const options = await passkeys.authenticationOptions(who.id, context);
      const response = await page.evaluate(async (optionsJSON) => {
        const lib = (window as unknown as { SimpleWebAuthnBrowser: { startAuthentication(o: { optionsJSON: unknown }): Promise<unknown> } }).SimpleWebAuthnBrowser;
        return lib.startAuthentication({ optionsJSON });
      }, options);
      expect(await passkeys.verify(who.id, context, response)).toMatchObject({ name: 'Work laptop' });
    }
    const row = await t.db.selectFrom('passkeys').select('counter').where('account_id', '=', who.id).executeTakeFirstOrThrow();
    expect(row.counter).toBeGreaterThanOrEqual(2);
    expect(consoleErrors).toEqual([]);
  });

  it('sets up an authenticator app by typing the key and a code', async () => {
    const who = await signUp(t);
    const page = await signedInOnSecurity(who);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await expect.poll(() => page.getByTestId('totp-qr').locator('svg').count()).toBe(1);
    await expectAccessible(page);
    const secret = (await page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
    const code = OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: t.clock.now().getTime() });
    const input = page.getByLabel('Code from the app');
    expect(await input.getAttribute('autocomplete')).toBe('one-time-code');
    await input.fill(code);
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.waitForURL('**/account/security?twostep=totp*');
    expect(await page.getByTestId('two-step-status').textContent()).toContain('on');
    await expectAccessible(page);

    // 2SV is on: backup codes are a change to it, so the step-up page asks for the app's next code first, then comes back.
    await page.getByRole('button', { name: 'Create backup codes' }).click();
    await page.waitForURL('**/account/step-up?next=%2Faccount%2Fsecurity');
    await expectAccessible(page);
    t.clock.advanceSeconds(30);
    await page.getByLabel('Code').fill(OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: t.clock.now().getTime() }));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/account/security');

    // Backup codes, shown once, and the security question form pass the same checks.
    await page.getByRole('button', { name: 'Create backup codes' }).click();
    await expect.poll(() => page.getByTestId('backup-codes').locator('li').count()).toBe(10);
    await expectAccessible(page);
    await page.goto('/account/two-step/security-question');
    await page.getByLabel('Your answer').fill('Ab');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#f-answer-error').count()).toBe(1);
    await expectAccessible(page);
    expect(consoleErrors).toEqual([]);
  });
});
