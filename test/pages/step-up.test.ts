import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, lastMessage, signUp, type TestApp } from '../helpers/app.js';
import { addAuthenticator, appCode } from '../twostep/helpers.js';
import { lastCode, messagesTo, phMobile } from '../phone/helpers.js';
import { control, signUpByForm, textOf, Visitor } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Asks for an e-mail change on the page; the answer is the POST's response. */
async function changeEmail(visitor: Visitor, to: string) {
  await visitor.get('/account/email');
  return visitor.post('/account/email', { email: to });
}

/** Follows a redirect to /account/step-up and passes it with the password. */
async function passStepUp(visitor: Visitor, location: string, password: string) {
  const page = await visitor.get(location);
  expect(page.statusCode).toBe(200);
  return visitor.post('/account/step-up', { next: control(page.body, 'next')?.value ?? '', method: 'password', password });
}

describe('the step-up page guards the account pages', () => {
  it('sends an e-mail change without a fresh check to /account/step-up, and changes nothing', async () => {
    const { visitor, user } = await signUpByForm(t);
    const to = `new-${user.email}`;
    const res = await changeEmail(visitor, to);
    expect(res.statusCode).toBe(303);
    // A form post returns to its own page after the step-up (no Referer: the site sends none).
    expect(res.headers.location).toBe('/account/step-up?next=%2Faccount%2Femail');
    expect(await lastMessage(t, to)).toBeUndefined();
    expect((await visitor.get('/account/email')).body).toContain(user.email);

    const page = await visitor.get(res.headers.location as string);
    expect(page.statusCode).toBe(200);
    expect(textOf(page.body, 'main') ?? page.body).toContain('Confirm it is you');
    expect(control(page.body, 'password')).toMatchObject({ type: 'password', autocomplete: 'current-password' });
    // The challenge id is a bearer secret: an HttpOnly cookie, never the URL or the page.
    expect(visitor.lastSetCookies.get('verity_step_up')).toMatch(/HttpOnly; SameSite=Lax/i);
    expect(page.body).not.toContain(visitor.cookies.get('verity_step_up'));
  });

  it('a wrong password is said beside the field; the right one returns to the page, where the change then works', async () => {
    const { visitor, user } = await signUpByForm(t);
    const to = `moved-${user.email}`;
    const asked = await changeEmail(visitor, to);
    const page = await visitor.get(asked.headers.location as string);
    const wrong = await visitor.post('/account/step-up', { next: '/account/email', method: 'password', password: 'not my password at all' });
    expect(wrong.statusCode).toBe(422);
    expect(textOf(wrong.body, 'f-password-error')).toBe('The password is not right.');
    expect(page.statusCode).toBe(200);

    const passed = await visitor.post('/account/step-up', { next: '/account/email', method: 'password', password: user.password });
    expect(passed.statusCode).toBe(303);
    expect(passed.headers.location).toBe('/account/email');
    expect(visitor.cookies.has('verity_step_up')).toBe(false);

    const again = await changeEmail(visitor, to);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe('/account/email?sent=1');
    expect((await lastMessage(t, to))?.body).toContain('/account/email/confirm?token=');
  });

  it('asks again once the 10 minutes are over', async () => {
    const { visitor, user } = await signUpByForm(t);
    const first = await changeEmail(visitor, `a-${user.email}`);
    await passStepUp(visitor, first.headers.location as string, user.password);
    t.clock.advanceSeconds(9 * 60);
    expect((await changeEmail(visitor, `b-${user.email}`)).headers.location).toBe('/account/email?sent=1');
    t.clock.advanceSeconds(61);
    const late = await changeEmail(visitor, `c-${user.email}`);
    expect(late.headers.location).toBe('/account/step-up?next=%2Faccount%2Femail');
    expect(await lastMessage(t, `c-${user.email}`)).toBeUndefined();
  });

  it('returns to a same-site Referer, and refuses an off-site next (falls back to the security page)', async () => {
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/account/phone');
    const fromPage = await t.app.inject({
      method: 'POST',
      url: '/account/email',
      headers: { cookie: visitor.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', referer: 'http://localhost:80/account/phone?x=1', host: 'localhost' },
      payload: new URLSearchParams({ _csrf: visitor.csrf, email: `r-${user.email}` }).toString(),
      remoteAddress: visitor.ip,
    });
    expect(fromPage.headers.location).toBe('/account/step-up?next=%2Faccount%2Fphone%3Fx%3D1');

    for (const next of ['https://evil.example/account', '//evil.example/x', '/\\evil.example']) {
      const page = await visitor.get(`/account/step-up?next=${encodeURIComponent(next)}`);
      expect(control(page.body, 'next')?.value).toBe('/account/security');
      const passed = await visitor.post('/account/step-up', { next, method: 'password', password: user.password });
      expect(passed.statusCode).toBe(303);
      expect(passed.headers.location).toBe('/account/security');
    }
  });

  it('a first phone number needs no step-up; a different number or removing the verified one does', async () => {
    const { visitor, user } = await signUpByForm(t);
    const first = phMobile();
    await visitor.get('/account/phone');
    const start = await visitor.post('/account/phone', { phone: first, country: 'PH', channel: 'sms' });
    expect(start.headers.location).toBe('/account/phone?done=sent');
    const verified = await visitor.post('/account/phone/verify', { code: await lastCode(t, first) });
    expect(verified.headers.location).toBe('/account/phone?done=verified');

    const other = phMobile();
    const replace = await visitor.post('/account/phone', { phone: other, country: 'PH', channel: 'sms' });
    expect(replace.headers.location).toBe('/account/step-up?next=%2Faccount%2Fphone');
    expect(await messagesTo(t, other)).toEqual([]);
    const remove = await visitor.post('/account/phone/remove', {});
    // /account/phone/remove is no page: without a Referer the member comes back to the security page.
    expect(remove.headers.location).toBe('/account/step-up?next=%2Faccount%2Fsecurity');
    expect((await visitor.get('/account/phone')).body).toContain(`data-testid="phone-number" data-e164="${first}"`);

    await passStepUp(visitor, remove.headers.location as string, user.password);
    await visitor.get('/account/phone');
    expect((await visitor.post('/account/phone/remove', {})).headers.location).toBe('/account/phone?done=removed');
  });

  it('with 2SV on, closing the account asks for the second step (the app code), not the password', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    t.clock.advanceSeconds(30); // the code that confirmed the app is used up
    const visitor = new Visitor(t);
    await visitor.get('/login');
    await visitor.post('/login', { login: member.username, password: member.password, next: '/account/security' });
    await visitor.get('/login/verify?next=%2Faccount%2Fsecurity&method=totp');
    const signedIn = await visitor.post('/login/verify', { next: '/account/security', method: 'totp', code: appCode(t, secret) });
    expect(signedIn.headers.location).toBe('/account/security');

    await visitor.get('/account/security');
    const close = await visitor.post('/account/close', { password: member.password });
    // /account/close is no page: the member comes back to the security page, where its form is.
    expect(close.headers.location).toBe('/account/step-up?next=%2Faccount%2Fsecurity');
    const page = await visitor.get(close.headers.location as string);
    // With 2SV on the password alone does not do: the authenticator app is asked for.
    expect(control(page.body, 'password')).toBeUndefined();
    expect(control(page.body, 'method')?.value).toBe('totp');
    t.clock.advanceSeconds(30);
    const passed = await visitor.post('/account/step-up', { next: '/account/security', method: 'totp', code: appCode(t, secret) });
    expect(passed.headers.location).toBe('/account/security');

    await visitor.get('/account/security');
    expect((await visitor.post('/account/close', { password: member.password })).headers.location).toBe('/?closed=1');
  });
});
