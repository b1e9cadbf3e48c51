import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, lastMessage, type SignedUp, type TestApp } from '../helpers/app.js';
import { browserAvailable, expectAccessible, launchBrowser, listen, newPage, signInByForm, watchConsole } from '../helpers/browser.js';
import { makeAgent, pageLinkIn } from '../support/helpers.js';

let t: TestApp;
let browser: Browser;
let baseURL: string;
let agent: SignedUp;
const contexts: BrowserContext[] = [];
const consoleErrors: string[] = [];
/** Screenshots go here when SCREENSHOTS is set (e.g. /tmp/support-shots). */
const shots = process.env.SCREENSHOTS;

async function fresh(): Promise<Page> {
  const { context, page } = await newPage(browser, baseURL);
  contexts.push(context);
  watchConsole(page, consoleErrors);
  return page;
}

/** Screenshots of the page as it is, on a phone and on a laptop. */
async function capture(page: Page, name: string): Promise<void> {
  if (!shots) return;
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${shots}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe.skipIf(!browserAvailable)('a support ticket conversation in a browser', () => {
  beforeAll(async () => {
    t = await createTestApp();
    ({ agent } = await makeAgent(t, { fullName: 'Maria Santos' }));
    baseURL = await listen(t);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t?.close();
  });

  it('goes from the footer link to a ticket, an agent reply by e-mail, and a member reply on the page', async () => {
    // The member, signed out, finds support from the footer.
    const member = await fresh();
    await member.goto('/help');
    await member.getByRole('contentinfo').getByRole('link', { name: 'Contact support' }).click();
    await member.waitForURL(/\/support\/contact$/);
    await expectAccessible(member);
    await capture(member, 'support-contact');

    // A refusal first: the error beside the field, the input kept.
    await member.getByLabel('Your name').fill('Ana Reyes');
    await member.getByLabel('Your e-mail, for our answer').fill('ana.reyes@');
    await member.getByRole('button', { name: 'Send to support' }).click();
    await expect(member.locator('#f-email-error').textContent()).resolves.toContain('valid e-mail');
    await expect(member.getByLabel('Your name').inputValue()).resolves.toBe('Ana Reyes');
    await expectAccessible(member);
    await capture(member, 'support-contact-error');

    await member.getByLabel('Your e-mail, for our answer').fill('ana.reyes@example.org');
    await member.getByLabel('What is it about?').selectOption('account_recovery');
    await member.getByLabel('Subject').fill('I cannot get into my old e-mail');
    await member.getByLabel('Your message').fill('My work address was closed when I left the company.\nHow can I get my account back?');
    await member.getByRole('button', { name: 'Send to support' }).click();
    await member.waitForURL(/\/support\/tickets\/[0-9a-f-]{36}\?key=.+&done=created$/);
    await expect(member.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('I cannot get into my old e-mail');
    await expect(member.getByRole('status').textContent()).resolves.toContain('We received your request');
    await expectAccessible(member);
    await capture(member, 'support-ticket');
    const id = /\/support\/tickets\/([0-9a-f-]{36})/.exec(member.url())![1]!;

    // The agent answers from the agent ticket page.
    await t.app.verity.jobs.drain();
    const desk = await fresh();
    await signInByForm(desk, agent.username, agent.password, `/login?next=${encodeURIComponent(`/agent/tickets/${id}`)}`);
    await desk.waitForURL(new RegExp(`/agent/tickets/${id}$`));
    await expect(desk.getByText('ana.reyes@example.org', { exact: false }).count()).resolves.toBeGreaterThan(0);
    await expectAccessible(desk);
    await capture(desk, 'agent-ticket');
    await desk.getByLabel('Message to Ana Reyes (sent by e-mail)').fill('Sorry to hear it. Which country did you sign up from?');
    await desk.getByRole('button', { name: 'Send reply' }).click();
    await desk.waitForURL(new RegExp(`/agent/tickets/${id}\\?done=replied$`));
    await expect(desk.getByTestId('ticket-status').textContent()).resolves.toBe('Pending (waiting for the member)');

    // The member follows the link in the e-mail and answers on the page.
    const mail = await lastMessage(t, 'ana.reyes@example.org');
    expect(mail?.body).toContain('Which country did you sign up from?');
    const again = await fresh();
    await again.goto(pageLinkIn(mail!.body).path);
    await expect(again.getByText('Maria, Verity Support').count()).resolves.toBe(1);
    await expect(again.getByTestId('ticket-status').textContent()).resolves.toBe('Waiting for your reply');
    await again.getByLabel('Your reply').fill('The Philippines, in 2021.');
    await again.getByRole('button', { name: 'Send reply' }).click();
    await again.waitForURL(/done=replied$/);
    await expect(again.getByText('The Philippines, in 2021.').count()).resolves.toBe(1);
    await expect(again.getByTestId('ticket-status').textContent()).resolves.toBe('Open');
    await expectAccessible(again);
    await capture(again, 'support-ticket-conversation');

    // The agent sees the answer.
    await desk.reload();
    await expect(desk.getByText('The Philippines, in 2021.').count()).resolves.toBe(1);
    await expect(desk.getByTestId('ticket-status').textContent()).resolves.toBe('Open');
    await capture(desk, 'agent-ticket-conversation');
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
