import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { control, signUpByForm, textOf, Visitor } from '../pages/form.js';
import { lastCode, phMobile, settle } from './helpers.js';

/** What a member meets on /account/phone and /account, without JavaScript. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function countdowns(html: string): number[] {
  return [...html.matchAll(/data-countdown="(\d+)"/g)].map((m) => Number(m[1]));
}

/** The text of the element with this data-testid, tags stripped and spaces collapsed. */
function shown(html: string, testid: string): string | undefined {
  const match = new RegExp(`<(\\w+)[^>]*\\bdata-testid="${testid}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  return match?.[2]?.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
}

/** The "Send code" button of the number form. */
function sendButton(html: string): string {
  return /<button type="submit"[^>]*>Send code<\/button>/.exec(html)?.[0] ?? '';
}

async function startOnPage(visitor: Visitor, phone: string) {
  await visitor.get('/account/phone');
  const res = await visitor.post('/account/phone', { country: 'PH', phone, channel: 'sms' });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
}

describe('a refused code: post, redirect, get', () => {
  it("comes back to the page's own address with the error beside an emptied code field, once", async () => {
    const { visitor } = await signUpByForm(t);
    const e164 = phMobile();
    await startOnPage(visitor, e164);
    const code = await lastCode(t, e164);
    await visitor.get('/account/phone');
    const wrong = await visitor.post('/account/phone/verify', { code: code === '123456' ? '654321' : '123456' });
    expect(wrong.statusCode).toBe(303);
    expect(wrong.headers.location).toBe('/account/phone');

    const page = await visitor.get('/account/phone');
    expect(page.statusCode).toBe(200);
    expect(textOf(page.body, 'f-code-error')).toBe('That code is not right. You have 4 tries left.');
    expect(control(page.body, 'code')).toMatchObject({ 'aria-invalid': 'true', value: '' });
    // Said once: a reload shows the page without it.
    const again = await visitor.get('/account/phone');
    expect(textOf(again.body, 'f-code-error')).toBeUndefined();
    // The right code still works.
    const right = await visitor.post('/account/phone/verify', { code });
    expect(right.headers.location).toBe('/account/phone?done=verified');
  });

  it("shows nothing for a forged, another account's or an expired flash cookie", async () => {
    const { visitor } = await signUpByForm(t);
    await startOnPage(visitor, phMobile());
    await visitor.get('/account/phone');
    await visitor.post('/account/phone/verify', { code: '000001' });
    const flash = visitor.cookies.get('verity_flash')!;
    expect(flash).toBeTruthy();

    // Another member on whose browser the cookie lands sees no error of someone else's.
    const { visitor: other } = await signUpByForm(t);
    await startOnPage(other, phMobile());
    other.cookies.set('verity_flash', flash);
    expect(textOf((await other.get('/account/phone')).body, 'f-code-error')).toBeUndefined();

    // A cookie the site did not sign puts no words on the page.
    const forged = Buffer.from(JSON.stringify({ a: 'x', u: Date.now() * 2, p: { errors: { code: 'Call +1 555 0100 for help' } } })).toString('base64url');
    other.cookies.set('verity_flash', forged);
    expect((await other.get('/account/phone')).body).not.toContain('Call +1 555 0100');

    // Past its minute it is gone, whatever the browser kept.
    visitor.cookies.set('verity_flash', flash);
    t.clock.advanceSeconds(61);
    expect(textOf((await visitor.get('/account/phone')).body, 'f-code-error')).toBeUndefined();
  });
});

describe('the "Send code" button', () => {
  it('counts down like the resend buttons when the number typed is the one just sent a code', async () => {
    const { visitor } = await signUpByForm(t);
    const e164 = phMobile();
    await startOnPage(visitor, e164);
    t.clock.advanceSeconds(5);
    const same = await visitor.post('/account/phone', { country: 'PH', phone: e164, channel: 'sms' });
    expect(same.statusCode).toBe(429);
    expect(control(same.body, 'phone')!.value).toBe(e164);
    expect(sendButton(same.body)).toContain('data-countdown="25" data-countdown-field="phone"');
    expect(countdowns(same.body)).toEqual([25, 25, 25]);
    // Said beside the number it is about.
    expect(textOf(same.body, 'f-phone-error')).toBe('Please wait 25 seconds before asking for another code.');
    expect(same.body).toContain('You can send a new code to this number in 25 seconds, or to another number now.');

    // Another number is not held by that wait: the page shows no countdown on "Send code".
    const page = await visitor.get('/account/phone');
    expect(sendButton(page.body)).toBe('<button type="submit">Send code</button>');
    const corrected = await visitor.post('/account/phone', { country: 'PH', phone: phMobile(), channel: 'sms' });
    expect(corrected.headers.location).toBe('/account/phone?done=sent');
  });
});

describe('numbers for people, help and the account summary', () => {
  it('shows +44 7400 123456 on the phone page and /account, links the code-not-received article, and offers a change once verified', async () => {
    const { visitor } = await signUpByForm(t);
    let account = await visitor.get('/account');
    expect(shown(account.body, 'account-phone')).toBe('none yet · Verify your phone');

    const e164 = '+447400123456';
    await startOnPage(visitor, '+44 7400 123456');
    const page = await visitor.get('/account/phone');
    expect(shown(page.body, 'pending-number')).toBe('+44 7400 123456');
    expect(page.body).toContain('<a href="/help/code-not-received">Code not received?</a>');
    expect((await visitor.get('/help/code-not-received')).statusCode).toBe(200);
    account = await visitor.get('/account');
    expect(shown(account.body, 'account-phone')).toBe('+44 7400 123456 not verified · Enter your code');

    await visitor.get('/account/phone');
    const done = await visitor.post('/account/phone/verify', { code: await lastCode(t, e164) });
    expect(done.headers.location).toBe('/account/phone?done=verified');
    await settle(t);
    const verified = await visitor.get('/account/phone?done=verified');
    expect(shown(verified.body, 'phone-number')).toBe('+44 7400 123456 verified');
    account = await visitor.get('/account');
    expect(shown(account.body, 'account-phone')).toBe('+44 7400 123456 verified · Change or remove');
    expect(account.body).not.toContain('Verify your phone');
    // The API keeps E.164.
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: visitor.cookieHeader() } });
    expect(me.json().phone).toEqual({ number: e164, verified: true });
  });
});
