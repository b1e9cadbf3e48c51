import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { control, decode, signUpByForm, Visitor } from '../pages/form.js';
import { lastCode, phMobile, startPhone, verifyNumber } from '../phone/helpers.js';
import { addAuthenticator, appCode } from '../twostep/helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const NEW_PASSWORD = 'lantern river under autumn stars';

function forgot(login: string) {
  return t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login }, remoteAddress: randomIp() });
}

/** Every e-mail to an address, newest first. */
async function mailTo(address: string) {
  await t.app.verity.jobs.drain();
  await t.app.verity.outbox.drain();
  return (await t.app.inject({ method: 'GET', url: `/v1/dev/outbox?to=${encodeURIComponent(address)}` })).json() as Array<{ subject: string; body: string }>;
}

/** Nothing that names the account holding the number. */
function expectNoHolder(text: string, holder: SignedUp) {
  const plain = decode(text).toLowerCase();
  expect(plain).not.toContain(holder.username.toLowerCase());
  expect(plain).not.toContain(holder.email.toLowerCase());
  expect(plain).not.toContain(holder.id);
}

describe('a duplicate account: the phone_in_use answer leads back to the first account', () => {
  it('API: the forgot-password link carries the request that mails the holder, and names nobody', async () => {
    const first = await signUp(t);
    const e164 = await verifyNumber(t, first);
    const extra = await signUp(t);
    const refused = await startPhone(t, extra, { phone: e164 });
    expect(refused.statusCode).toBe(409);
    const body = problem(refused);
    expectNoHolder(refused.body, first);
    const [forgotLink, support] = body.recovery as Array<{ rel: string; href: string; request?: { method: string; path: string; body: { login: string } } }>;
    expect(forgotLink).toMatchObject({ rel: 'forgot_password', href: '/recover/password', request: { method: 'POST', path: '/v1/recovery/password', body: { login: e164 } } });
    expect(support).toMatchObject({ rel: 'contact_support', href: '/support/contact' });
    expect(body.help).toEqual({ href: '/help/duplicate-account', title: expect.any(String) });
    expect((await t.app.inject({ method: 'GET', url: '/help/duplicate-account' })).statusCode).toBe(200);

    // Sending that request answers as for any login; the link goes to the holder's address.
    const sent = await forgot(forgotLink!.request!.body.login);
    const unknownNumber = await forgot(phMobile());
    expect(sent.statusCode).toBe(202);
    expect(sent.body).toBe(unknownNumber.body);
    const mail = await lastMessage(t, first.email);
    expect(mail?.subject).toBe('Reset your Verity password');
    expect(mail?.body).toMatch(/phone number verified on this account/);
    expect(mail?.body).toContain('/help/duplicate-account');
    expect(await mailTo(extra.email)).toHaveLength(1); // only its sign-up verification

    // The number typed as people write it finds the same account; the link works.
    await forgot(`${e164.slice(0, 3)} ${e164.slice(3, 6)} ${e164.slice(6)}`);
    const token = linkToken((await lastMessage(t, first.email))!.body, '/recover/password');
    expect((await t.app.inject({ method: 'POST', url: `/v1/recovery/password/${token}`, payload: { newPassword: NEW_PASSWORD } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: first.username, password: NEW_PASSWORD }, remoteAddress: randomIp() })).statusCode).toBe(200);
  });

  it('the articles that send members here name the walk-through (0018 updates the unedited seed)', async () => {
    const article = (slug: string) => t.app.inject({ method: 'GET', url: `/v1/help/articles/${slug}` }).then((r) => r.json());
    const inUse = await article('phone-number-in-use');
    expect(inUse.html).toContain('href="/help/duplicate-account"');
    expect(inUse.body).toContain('E-mail a reset link to the account that holds this number');
    for (const slug of ['phone-number-in-use', 'one-account-per-person']) {
      expect((await article(slug)).related.map((r: { slug: string }) => r.slug)).toContain('duplicate-account');
    }
  });

  it('a number nobody holds, or one only a closed account held, mails nobody', async () => {
    const gone = await signUp(t);
    const e164 = await verifyNumber(t, gone);
    expect((await t.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(gone.token), payload: { password: gone.password } })).statusCode).toBe(200);
    const before = (await mailTo(gone.email)).length;
    expect((await forgot(e164)).statusCode).toBe(202);
    expect((await forgot('+1')).statusCode).toBe(202);
    expect(await mailTo(gone.email)).toHaveLength(before);
  });

  it('pages: phone page → a reset link for the holder → 2SV → new password → sign in; the extra account closes with its password', async () => {
    // The first account holds the number and has 2SV; the member signs up again and tries it.
    const first = await signUp(t);
    const secret = await addAuthenticator(t, first);
    const e164 = await verifyNumber(t, first);
    const { visitor: extra, user: extraUser } = await signUpByForm(t);
    await extra.get('/account/phone');
    const refused = await extra.post('/account/phone', { country: 'PH', phone: e164, channel: 'sms' });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('data-testid="phone-in-use"');
    expect(refused.body).toContain('href="/support/contact"');
    expect(refused.body).toContain('href="/help/duplicate-account"');
    expect(refused.body).toContain('action="/recover/password"');
    expect(control(refused.body, 'login')?.value).toBe(e164);
    expectNoHolder(refused.body, first);

    const asked = await extra.post('/recover/password', { login: e164 });
    expect(asked.headers.location).toBe('/recover/password/sent');
    const sentPage = await extra.get('/recover/password/sent');
    expect(sentPage.body).toMatch(/phone number/);
    expectNoHolder(sentPage.body, first);

    // In the first account's inbox: the link, then the two-step check, then the new password.
    const token = linkToken((await lastMessage(t, first.email))!.body, '/recover/password');
    const browser = new Visitor(t);
    expect((await browser.get(`/recover/password/${token}`)).headers.location).toBe(`/recover/password/${token}/check`);
    await browser.get(`/recover/password/${token}/check`);
    t.clock.advanceSeconds(30);
    expect((await browser.post(`/recover/password/${token}/check`, { method: 'totp', code: appCode(t, secret) })).headers.location).toBe(`/recover/password/${token}`);
    await browser.get(`/recover/password/${token}`);
    expect((await browser.post(`/recover/password/${token}`, { newPassword: NEW_PASSWORD })).headers.location).toBe('/recover/password/done');
    await browser.get('/login');
    expect((await browser.post('/login', { login: first.username, password: NEW_PASSWORD })).headers.location).toMatch(/^\/login\/verify/);

    // The extra account closes from /account/security; its password is the confirmation.
    const security = await extra.get('/account/security');
    expect(security.body).toContain('action="/account/close"');
    const wrong = await extra.post('/account/close', { password: 'not my password at all' });
    expect(wrong.statusCode).toBe(401);
    const closed = await extra.post('/account/close', { password: extraUser.password });
    expect(closed.headers.location).toBe('/?closed=1');
    expect((await extra.get('/account')).statusCode).toBe(303);
    const status = await t.db.selectFrom('accounts').select('status').where('username', '=', extraUser.username).executeTakeFirstOrThrow();
    expect(status.status).toBe('closed');
  });

  it('closing the account that holds the number (from the security page, with 2SV: step-up) releases it for the other', async () => {
    // This time the member keeps the new account: the old one, holding the number, closes.
    const { visitor: old, user: oldUser } = await signUpByForm(t);
    const oldMember = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: oldUser.username, password: oldUser.password }, remoteAddress: randomIp() });
    const holder: SignedUp = { id: oldMember.json().account.id, token: oldMember.json().session.token, email: oldUser.email, username: oldUser.username, password: oldUser.password };
    const e164 = await verifyNumber(t, holder);
    const secret = await addAuthenticator(t, holder);
    const kept = await signUp(t);
    expect((await startPhone(t, kept, { phone: e164 })).statusCode).toBe(409);

    await old.get('/account/security');
    const close = await old.post('/account/close', { password: oldUser.password });
    expect(close.headers.location).toBe('/account/step-up?next=%2Faccount%2Fsecurity');
    await old.get(close.headers.location as string);
    t.clock.advanceSeconds(30);
    expect((await old.post('/account/step-up', { next: '/account/security', method: 'totp', code: appCode(t, secret) })).headers.location).toBe('/account/security');
    await old.get('/account/security');
    expect((await old.post('/account/close', { password: oldUser.password })).headers.location).toBe('/?closed=1');
    expect((await lastMessage(t, oldUser.email))?.body).toContain(`The phone number ${e164} was released`);

    // The kept account now verifies the number, and a reset by that number reaches it.
    const started = await startPhone(t, kept, { phone: e164 });
    expect(started.statusCode, started.body).toBe(202);
    const verified = await t.app.inject({ method: 'POST', url: '/v1/me/phone/verify', headers: auth(kept.token), payload: { code: await lastCode(t, e164) } });
    expect(verified.statusCode, verified.body).toBe(200);
    await forgot(e164);
    expect((await lastMessage(t, kept.email))?.subject).toBe('Reset your Verity password');
  });
});
