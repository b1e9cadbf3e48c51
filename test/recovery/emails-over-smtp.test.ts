import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpTransport } from '../../src/platform/messaging/transports/smtp.js';
import { auth, createTestApp, randomIp, signUp, stepUp, type TestApp } from '../helpers/app.js';

/**
 * Every e-mail the recovery flows send, read from a real SMTP server (smtp-server, parsed by
 * mailparser) as a mail client would see it: subject, recipient, and links that open the page
 * they promise, over HTTP, on the listening app.
 */
const FROM = 'Verity <no-reply@verity.test>';
const received: ParsedMail[] = [];
let smtp: SMTPServer;
let t: TestApp;
let base: string;

async function freePort(): Promise<number> {
  const probe = new SMTPServer({ logger: false });
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.server.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, callback) => {
      simpleParser(stream).then((mail) => {
        received.push(mail);
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createTestApp({
    env: { PUBLIC_URL: base, EMAIL_FROM: FROM },
    transports: () => ({ email: new SmtpTransport(`smtp://127.0.0.1:${smtpPort}`, FROM, 'verity.test', { ignoreTLS: true }) }),
  });
  await t.app.listen({ port, host: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

let read = 0;
/**
 * Runs the jobs and the outbox, then takes the one e-mail with this subject among those the
 * SMTP server got since the last look (other notices, such as a new sign-in's, may come too).
 */
async function nextMail(subject: string): Promise<ParsedMail> {
  await t.app.verity.jobs.drain();
  await t.app.verity.outbox.drain();
  const fresh = received.slice(read);
  read = received.length;
  const matching = fresh.filter((m) => m.subject === subject);
  expect(matching, `one new "${subject}" e-mail among: ${fresh.map((m) => m.subject).join(' | ')}`).toHaveLength(1);
  return matching[0]!;
}

/** The links of a mail: the text part and the HTML part must carry the same ones. */
function links(mail: ParsedMail): string[] {
  const inText = [...(mail.text ?? '').matchAll(/https?:\/\/\S+/g)].map((m) => m[0]);
  const inHtml = [...String(mail.html || '').matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
  expect(inHtml.sort()).toEqual([...inText].sort());
  return inText;
}

/** Checks who, what and from, and that the mail's link to `path` opens a page with `heading`. */
async function expectMail(mail: ParsedMail, to: string, subject: string, path: string, heading: string): Promise<string> {
  expect(mail.subject).toBe(subject);
  expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual([to]);
  expect(mail.from?.text).toContain('no-reply@verity.test');
  const link = links(mail).find((l) => new URL(l).pathname.startsWith(path));
  expect(link, `a ${path} link in "${subject}"`).toBeDefined();
  expect(link!.startsWith(base)).toBe(true);
  const page = await fetch(link!);
  expect(page.status, link).toBe(200);
  expect(await page.text()).toContain(`<h1>${heading}</h1>`);
  return link!;
}

const tokenOf = (link: string) => decodeURIComponent(new URL(link).searchParams.get('token') ?? new URL(link).pathname.split('/').pop()!);
const api = (method: 'POST' | 'GET', url: string, payload?: object, token?: string, cookie?: string) =>
  t.app.inject({ method, url, ...(payload ? { payload } : {}), headers: { ...(token ? auth(token) : {}), ...(cookie ? { cookie } : {}) }, remoteAddress: randomIp() });

describe('the recovery e-mails, from a real SMTP server', () => {
  it('forgot password, reset notice, not-me lock, compromise reports, e-mail change, its notice and revert', async () => {
    const member = await signUp(t);
    await nextMail('Confirm your e-mail address for Verity'); // the sign-up's address check
    const password = { current: member.password };
    const reset = async (newPassword: string) => {
      expect((await api('POST', '/v1/recovery/password', { login: member.username })).statusCode).toBe(202);
      const link = await expectMail(await nextMail('Reset your Verity password'), member.email, 'Reset your Verity password', '/recover/password/', 'Choose a new password');
      expect((await api('POST', `/v1/recovery/password/${tokenOf(link)}`, { newPassword })).statusCode).toBe(200);
      password.current = newPassword;
      return expectMail(await nextMail('Your Verity password was changed'), member.email, 'Your Verity password was changed', '/recover/not-me/', "This wasn't me");
    };
    // Like a browser, the client keeps the device cookie a sign-in sets, so it is a new browser once.
    let device: string | undefined;
    const signIn = async () => {
      const res = await api('POST', '/v1/sessions', { login: member.username, password: password.current }, undefined, device);
      const set = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('verity_device='));
      if (set) device = set.split(';')[0];
      return { status: res.statusCode, token: res.statusCode === 200 ? (res.json().session.token as string) : '' };
    };

    // 1. Forgot password: the link, then the notice of the change with its "this wasn't me" link.
    const notMe = await reset('first new passphrase for this test');
    // 2. "This wasn't me" from that notice: the lock, and its notice saying how to get back in.
    expect((await api('POST', `/v1/recovery/not-me/${tokenOf(notMe)}`)).statusCode).toBe(200);
    await expectMail(await nextMail('Your Verity account is locked for your protection'), member.email, 'Your Verity account is locked for your protection', '/recover/password', 'Forgot your password?');
    expect((await signIn()).status).toBe(423);
    await reset('second new passphrase for this test');
    expect((await signIn()).status).toBe(200);
    // The sign-up's cookie was not kept: this client is a browser the account has not used.
    await expectMail(await nextMail('New sign-in to your Verity account from An app (lightMyRequest)'), member.email, 'New sign-in to your Verity account from An app (lightMyRequest)', '/recover/not-me/', "This wasn't me");

    // 3. Compromise reports: anonymous ones send nothing (a stranger's address gets no mail);
    // a signed-in one locks and sends the same lock notice.
    expect((await api('POST', '/v1/recovery/compromised', { login: member.username, contactEmail: 'worried@example.org', details: 'Odd messages' })).statusCode).toBe(202);
    await t.app.verity.outbox.drain();
    expect(received.filter((m) => m.subject && m.text?.includes('worried@example.org'))).toEqual([]);
    expect(received.some((m) => !Array.isArray(m.to) && m.to?.text.includes('worried@example.org'))).toBe(false);
    expect((await api('POST', '/v1/me/compromised', { details: 'Not me' }, (await signIn()).token)).statusCode).toBe(202);
    await expectMail(await nextMail('Your Verity account is locked for your protection'), member.email, 'Your Verity account is locked for your protection', '/recover/password', 'Forgot your password?');
    await reset('third new passphrase for this test');

    // 4. E-mail change: the confirm link to the new address, then the old address is told.
    const session = (await signIn()).token;
    await stepUp(t, { token: session, password: password.current });
    const fresh = `moved-${member.username}@example.net`;
    expect((await api('POST', '/v1/me/email', { email: fresh }, session)).statusCode).toBe(202);
    const confirm = await expectMail(await nextMail('Confirm your new e-mail address for Verity'), fresh, 'Confirm your new e-mail address for Verity', '/account/email/confirm', 'Confirm your new e-mail address');
    expect((await api('POST', '/v1/accounts/email-change', { token: tokenOf(confirm) })).statusCode).toBe(200);
    const told = await nextMail('The e-mail address of your Verity account was changed');
    const revert = await expectMail(told, member.email, 'The e-mail address of your Verity account was changed', '/recover/not-me/', "This wasn't me");
    expect(told.text).toContain(fresh);

    // 5. The revert: the old address is back, and the lock notice goes to it, not to the new one.
    expect((await api('POST', `/v1/recovery/not-me/${tokenOf(revert)}`)).statusCode).toBe(200);
    await expectMail(await nextMail('Your Verity account is locked for your protection'), member.email, 'Your Verity account is locked for your protection', '/recover/password', 'Forgot your password?');
    const row = await t.db.selectFrom('accounts').select(['email', 'status']).where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ email: member.email, status: 'locked' });
    await reset('fourth new passphrase for this test');
    expect((await signIn()).status).toBe(200);
  });
});
