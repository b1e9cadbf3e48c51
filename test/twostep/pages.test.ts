import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { control, decode, signUpByForm } from '../pages/form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const section = (html: string) => /<section id="two-step"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';

describe('/account/security: two-step verification without JavaScript', () => {
  it('shows 2SV off with a nudge, and sets up an authenticator app from its QR code', async () => {
    const { visitor, user } = await signUpByForm(t);
    let page = await visitor.get('/account/security');
    expect(page.statusCode).toBe(200);
    expect(section(page.body)).toContain('Two-step verification is <strong>off</strong>');
    expect(section(page.body)).toContain('data-testid="two-step-recommendation"');

    const setup = await visitor.post('/account/two-step/totp', {});
    expect(setup.statusCode).toBe(200);
    expect(setup.body).toMatch(/<figure class="qr"[^>]*><svg/);
    expect(control(setup.body, 'code')).toMatchObject({ autocomplete: 'one-time-code', inputmode: 'numeric' });
    const secret = /data-testid="totp-secret">([A-Z2-7 ]+)</.exec(setup.body)![1]!.replace(/ /g, '');
    const setupId = control(setup.body, 'setupId')!.value!;

    const wrong = await visitor.post('/account/two-step/totp/confirm', { setupId, code: '000000' === appCode(secret) ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body).toContain('That code is not right');
    expect(wrong.body).toContain(secret.slice(0, 4)); // the same setup, shown again

    const ok = await visitor.post('/account/two-step/totp/confirm', { setupId, code: appCode(secret) });
    expect(ok.statusCode).toBe(303);
    page = await visitor.get(ok.headers.location!);
    expect(section(page.body)).toContain('Your authenticator app is set up.');
    expect(section(page.body)).toContain('Two-step verification is <strong>on</strong>');
    expect(section(page.body)).toContain('Add a second method');
    expect(user.username).toBeTruthy();
  });

  it('shows backup codes once with a download, then only how many are left', async () => {
    const { visitor } = await signUpByForm(t);
    await visitor.get('/account/security');
    const res = await visitor.post('/account/two-step/backup-codes', {});
    expect(res.statusCode).toBe(200);
    const codes = [...res.body.matchAll(/<li><code>([a-z2-9-]{11})<\/code><\/li>/g)].map((m) => m[1]!);
    expect(codes).toHaveLength(10);
    const download = decodeURIComponent(decode(/href="data:text\/plain;charset=utf-8,([^"]+)" download/.exec(res.body)![1]!));
    for (const code of codes) expect(download).toContain(code);

    const page = await visitor.get('/account/security');
    expect(section(page.body)).toContain('10 left');
    for (const code of codes) expect(page.body).not.toContain(code);
  });

  it('sets a security question, showing a short answer refused beside its field', async () => {
    const { visitor } = await signUpByForm(t);
    const form = await visitor.get('/account/two-step/security-question');
    expect(form.body).toContain('What was the name of your first pet?');
    const short = await visitor.post('/account/two-step/security-question', { question: 'first_pet', answer: 'Al' });
    expect(short.statusCode).toBe(422);
    expect(short.body).toMatch(/id="f-answer-error">Use at least 3 characters/);
    expect(control(short.body, 'question')).toBeDefined();
    const ok = await visitor.post('/account/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    expect(ok.statusCode).toBe(303);
    const page = await visitor.get(ok.headers.location!);
    expect(section(page.body)).toContain('What was the name of your first pet?');

    // 2SV is on now: removing the question first asks for a step-up, which returns to the security page.
    await visitor.get('/account/security');
    const asked = await visitor.post('/account/two-step/remove/security_question', {});
    expect(asked.headers.location).toBe('/account/step-up?next=%2Faccount%2Fsecurity');
    const step = await visitor.get(asked.headers.location!);
    expect(control(step.body, 'method')?.value).toBe('security_question');
    expect(step.body).toContain('What was the name of your first pet?');
    const passed = await visitor.post('/account/step-up', { next: '/account/security', method: 'security_question', answer: 'rex' });
    expect(passed.headers.location).toBe('/account/security');
    await visitor.get('/account/security');
    const removed = await visitor.post('/account/two-step/remove/security_question', {});
    expect(removed.statusCode).toBe(303);
    expect(removed.headers.location).toBe('/account/security?twostep=removed#two-step');
    expect(section((await visitor.get('/account/security')).body)).toContain('Two-step verification is <strong>off</strong>');
    // A double submit finds it gone: still back to the page.
    expect((await visitor.post('/account/two-step/remove/security_question', {})).statusCode).toBe(303);
  });

  it('offers text and call codes only with a verified phone, and refuses a forged post with the reason', async () => {
    const { visitor } = await signUpByForm(t);
    const page = await visitor.get('/account/security');
    expect(section(page.body)).toContain('verify your phone number</a> first');
    expect(section(page.body)).not.toContain('action="/account/two-step/sms"');
    const forged = await visitor.post('/account/two-step/sms', {});
    expect(forged.statusCode).toBe(409);
    expect(forged.body).toContain('Verify your phone number first');
    expect((await visitor.post('/account/two-step/backup-codes', { _csrf: 'wrong' })).statusCode).toBe(403);
  });

  it('serves the WebAuthn browser library from this site', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/static/vendor/simplewebauthn-browser.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.body).toContain('SimpleWebAuthnBrowser');
    expect((await t.app.inject({ method: 'GET', url: '/static/two-step.js' })).statusCode).toBe(200);
  });
});

function appCode(secret: string): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: t.clock.now().getTime() });
}
