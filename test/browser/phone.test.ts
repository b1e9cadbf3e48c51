import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import lib from 'google-libphonenumber';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
const open: BrowserContext[] = [];
let consoleErrors: string[] = [];

/** A browser signed in as a fresh member, on /account/phone. */
async function signedInOnPhonePage(who: SignedUp): Promise<Page> {
  const { context, page } = await newPage(browser, baseURL);
  open.push(context);
  watchConsole(page, consoleErrors);
  await signInByForm(page, who.username, who.password, '/login?next=/account/phone');
  await page.waitForURL('**/account/phone');
  await expectAccessible(page);
  return page;
}

/** The newest code sent to a number, read from the development outbox through the app. */
async function codeFromOutbox(page: Page, e164: string): Promise<string> {
  await t.app.verity.outbox.drain();
  const res = await page.request.get(`/v1/dev/outbox?to=${encodeURIComponent(e164)}`);
  expect(res.status()).toBe(200);
  const [message] = (await res.json()) as Array<{ channel: string; body: string }>;
  expect(message?.channel).toBe('sms');
  return /\b(\d{6})\b/.exec(message!.body)![1]!;
}

async function sendCode(page: Page, phone: string, country?: string) {
  if (country) await page.getByLabel('Country of the number').selectOption(country);
  await page.getByLabel('Phone number').fill(phone);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.waitForLoadState();
  await expectAccessible(page); // whatever the answer: the code form, or a refusal beside the field
}

describe.skipIf(!browserAvailable)('/account/phone in a browser', () => {
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
    const errors = consoleErrors;
    consoleErrors = [];
    expect(errors).toEqual([]);
  });

  it('verifies a number: enter it, get the code from the outbox, enter the code, see it verified', async () => {
    const member = await signUp(t, { country: 'PH' });
    const page = await signedInOnPhonePage(member);
    await sendCode(page, '0917 555 8888');
    expect(page.url()).toContain('/account/phone?done=sent');
    expect(await page.getByTestId('flash').textContent()).toContain('We sent you a code');
    expect(await page.getByTestId('pending-number').textContent()).toBe('+63 917 555 8888');
    expect(await page.getByTestId('pending-number').getAttribute('data-e164')).toBe('+639175558888');
    expect(await page.getByTestId('delivery').getAttribute('data-status')).toBe('queued');
    expect(await page.getByTestId('delivery').textContent()).toContain('can take a minute');
    // Resend waits for the cooldown (the server refuses early resends too).
    const resendButton = page.getByRole('button', { name: /Send a new code/ });
    expect(await resendButton.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: /Call me with the code/ }).isDisabled()).toBe(true);

    // A wrong code first: back on the page's own address, the error beside the emptied field.
    const code = await codeFromOutbox(page, '+639175558888');
    await page.getByLabel('Code').fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState();
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/account/phone');
    expect(await page.locator('#f-code-error').textContent()).toContain('4 tries left');
    expect(await page.getByLabel('Code').inputValue()).toBe('');
    await expectAccessible(page);

    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account/phone?done=verified');
    expect(await page.getByTestId('phone-number').textContent()).toContain('+63 917 555 8888');
    expect(await page.getByTestId('phone-verified').textContent()).toBe('verified');
    await expectAccessible(page);
  });

  it('counts the resend wait down, then calls with the code, which verifies the number', async () => {
    const member = await signUp(t, { country: 'PH' });
    const page = await signedInOnPhonePage(member);
    await sendCode(page, '0917 555 6666');
    const callButton = page.getByRole('button', { name: /Call me with the code/ });
    expect(await callButton.isDisabled()).toBe(true);
    const first = Number(/\((\d+)s\)/.exec((await callButton.textContent()) ?? '')?.[1]);
    expect(first).toBeGreaterThan(25);
    // public/app.js ticks every second.
    await page.waitForFunction(
      (start) => {
        const button = Array.from(document.querySelectorAll('button')).find((b) => b.textContent?.startsWith('Call me with the code'));
        const left = Number(/\((\d+)s\)/.exec(button?.textContent ?? '')?.[1]);
        return left < start;
      },
      first,
      { timeout: 5000 },
    );

    // The server's clock passes the cooldown: the page offers the call at once.
    t.clock.advanceSeconds(30);
    await page.reload();
    expect(await callButton.isDisabled()).toBe(false);
    expect(await callButton.textContent()).toBe('Call me with the code');
    await callButton.click();
    await page.waitForURL('**/account/phone?done=called');
    expect(await page.getByTestId('flash').textContent()).toContain('We are calling you now');
    expect(await page.getByTestId('delivery').textContent()).toContain('Answer the call');

    await t.app.verity.outbox.drain();
    const res = await page.request.get(`/v1/dev/outbox?to=${encodeURIComponent('+639175556666')}`);
    const [call] = (await res.json()) as Array<{ channel: string; body: string }>;
    expect(call?.channel).toBe('voice');
    const spoken = /code is: (\d(?:, \d){5})\./.exec(call!.body)?.[1];
    expect(spoken).toBeDefined();
    await page.getByLabel('Code').fill(spoken!.replace(/, /g, ''));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account/phone?done=verified');
    expect(await page.getByTestId('phone-number').textContent()).toContain('+63 917 555 6666');
  });

  it('shows the VoIP refusal with its guidance, keeping the input', async () => {
    const util = lib.PhoneNumberUtil.getInstance();
    const voip = util.format(util.getExampleNumberForType('GB', lib.PhoneNumberType.VOIP)!, lib.PhoneNumberFormat.E164);
    const page = await signedInOnPhonePage(await signUp(t));
    await sendCode(page, voip);
    expect(await page.locator('#f-phone-error').textContent()).toBe("We can't verify VoIP numbers; please use a different, non-VoIP number.");
    expect(await page.getByTestId('phone-voip').textContent()).toContain('SIM card');
    expect(await page.getByLabel('Phone number').inputValue()).toBe(voip);
  });

  it('shows phone_in_use with the recovery links and the advice to close the extra account', async () => {
    const owner = await signUp(t);
    const ownerPage = await signedInOnPhonePage(owner);
    await sendCode(ownerPage, '+639175557777');
    await ownerPage.getByLabel('Code').fill(await codeFromOutbox(ownerPage, '+639175557777'));
    await ownerPage.getByRole('button', { name: 'Verify' }).click();
    await ownerPage.waitForURL('**/account/phone?done=verified');

    const page = await signedInOnPhonePage(await signUp(t));
    await sendCode(page, '+63 917 555 7777');
    const box = page.getByTestId('phone-in-use');
    expect(await box.textContent()).toContain('close the extra account');
    expect(await box.locator('a[data-rel="forgot_password"]').getAttribute('href')).toBe('/recover/password');
    expect(await box.locator('a[data-rel="contact_support"]').getAttribute('href')).toBe('/support/contact');
    expect(await page.locator('#f-phone-error').textContent()).toContain('already verified on another account');
  });

  it('calls a landline and says so', async () => {
    const page = await signedInOnPhonePage(await signUp(t));
    await sendCode(page, '020 7183 8750', 'GB');
    expect(await page.getByTestId('flash').textContent()).toContain('landline');
    expect(await page.getByRole('button', { name: /Call me again/ }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Send a new code/ }).count()).toBe(0);
  });
  it('counts down on "Send code" for the number just sent a code, and not once the number is edited', async () => {
    const page = await signedInOnPhonePage(await signUp(t));
    await sendCode(page, '+63 917 555 4444');
    await sendCode(page, '+63 917 555 4444');
    const send = page.getByRole('button', { name: /^Send code/ });
    expect(await send.isDisabled()).toBe(true);
    expect(await send.textContent()).toMatch(/^Send code \(\d+s\)$/);
    // The same wait as the resend buttons.
    const wait = (text: string | null) => /\((\d+)s\)/.exec(text ?? '')?.[1];
    expect(wait(await send.textContent())).toBe(wait(await page.getByRole('button', { name: /Send a new code/ }).textContent()));
    // Correcting the number ends the wait: the cooldown was that number's.
    await page.getByLabel('Phone number').fill('+63 917 555 4445');
    expect(await send.isDisabled()).toBe(false);
    expect(await send.textContent()).toBe('Send code');
    await send.click();
    await page.waitForURL('**/account/phone?done=sent');
    expect(await page.getByTestId('pending-number').textContent()).toBe('+63 917 555 4445');
  });

  it('looks right at 390 and 1280 px in each state (screenshots in .test-cache/phone-*.png)', async () => {
    const dir = join(process.cwd(), '.test-cache');
    mkdirSync(dir, { recursive: true });
    const page = await signedInOnPhonePage(await signUp(t, { country: 'GB' }));
    const shoot = async (state: string) => {
      await expectAccessible(page);
      for (const width of [390, 1280]) {
        await page.setViewportSize({ width, height: 900 });
        // No control may be wider than the screen.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        await page.screenshot({ path: join(dir, `phone-${state}-${width}.png`), fullPage: true });
      }
    };
    await shoot('empty');
    await sendCode(page, '07400 123456');
    await shoot('code-sent');
    await page.getByLabel('Code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState();
    await shoot('code-refused');
    await sendCode(page, '07400 123456');
    await shoot('send-countdown');
    await page.getByLabel('Code').fill(await codeFromOutbox(page, '+447400123456'));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account/phone?done=verified');
    await shoot('verified');
    await page.goto('/account');
    await shoot('account');
  });
});
