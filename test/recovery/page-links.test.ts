import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, linkToken, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { routesFor } from '../helpers/routes.js';
import { decode, signUpByForm, Visitor } from '../pages/form.js';
import { verifyNumber } from '../phone/helpers.js';
import { addAuthenticator } from '../twostep/helpers.js';

/**
 * Every page of the recovery flows, walked as a member meets them, and every link and form on
 * each: a link must open a page (no 404, no 5xx) for the visitor who sees it, and a form must
 * post to a route the app has. Two pages are being built by the support-desk work and are
 * left out until then.
 */
const BEING_BUILT = new Set(['/support/contact', '/recover/security-reset']);

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

interface Seen {
  page: string;
  visitor: Visitor;
  html: string;
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/<a\b[^>]*\bhref="([^"]*)"/g)].map((m) => decode(m[1]!));
}
function actions(html: string): string[] {
  return [...html.matchAll(/<form\b[^>]*\baction="([^"]*)"/g)].map((m) => decode(m[1]!));
}

/** Route patterns as regular expressions (":token" matches one path segment). */
function postRoutes(): RegExp[] {
  return routesFor(t.app, 'POST').map((path) => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}$`));
}

describe('the recovery pages lead somewhere real', () => {
  it('every link opens a page and every form posts to a route', async () => {
    const seen: Seen[] = [];
    const look = async (visitor: Visitor, page: string, expected = 200) => {
      const res = await visitor.get(page);
      expect(res.statusCode, page).toBe(expected);
      seen.push({ page, visitor, html: res.body });
      return res;
    };
    const keep = (visitor: Visitor, page: string, html: string) => seen.push({ page, visitor, html });

    // Signed out: sign-in, forgot password, the e-mail link, the check, the new password, done.
    const member = await signUp(t);
    await addAuthenticator(t, member);
    const anon = new Visitor(t);
    for (const page of ['/login', '/recover/password', '/recover/password/sent', '/recover/no-email', '/support/compromised', '/support/compromised/sent', '/support/compromised/locked', '/recover/password/done', '/help/forgot-password', '/help/duplicate-account', '/help/phone-number-in-use', '/help/one-account-per-person']) {
      await look(anon, page);
    }
    await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login: member.username }, remoteAddress: randomIp() });
    const reset = linkToken((await lastMessage(t, member.email))!.body, '/recover/password');
    await look(anon, `/recover/password/${reset}`, 303);
    await look(anon, `/recover/password/${reset}/check`);
    await look(anon, `/recover/password/${reset}/check?method=email`);
    await look(anon, '/recover/password/not-a-real-token', 410);
    // A security question and backup codes on the check: "Forgot your answer?", other methods.
    const asker = await signUp(t);
    expect((await t.app.inject({ method: 'PUT', url: '/v1/me/two-step/security-question', headers: auth(asker.token), payload: { question: 'first_pet', answer: 'Biscuit the cat' } })).statusCode).toBe(200);
    await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login: asker.username }, remoteAddress: randomIp() });
    const askerReset = linkToken((await lastMessage(t, asker.email))!.body, '/recover/password');
    const questioned = new Visitor(t);
    await look(questioned, `/recover/password/${askerReset}`, 303);
    await look(questioned, `/recover/password/${askerReset}/check`);
    const wrongAnswer = await questioned.post(`/recover/password/${askerReset}/check`, { method: 'security_question', answer: 'not it' });
    keep(questioned, 'check (wrong answer)', wrongAnswer.body);

    // "This wasn't me", the lock, and a compromise report while signed in.
    const other = await signUp(t);
    await t.app.inject({ method: 'POST', url: '/v1/me/password', headers: auth(other.token), payload: { password: other.password, newPassword: 'a different passphrase for links' } });
    const notMe = linkToken((await lastMessage(t, other.email))!.body, '/recover/not-me');
    await look(anon, `/recover/not-me/${notMe}`);
    await anon.get(`/recover/not-me/${notMe}`);
    const locked = await anon.post(`/recover/not-me/${notMe}`, {});
    keep(anon, 'not-me → locked', locked.body);
    const { visitor: signedIn, user } = await signUpByForm(t);
    await look(signedIn, '/support/compromised');
    await look(signedIn, '/account/security');

    // E-mail change: the form, its sent state and the confirm page.
    await stepUpByPassword(signedIn, user.password);
    await look(signedIn, '/account/email');
    await signedIn.post('/account/email', { email: `moved-${user.username}@example.net` });
    await look(signedIn, '/account/email?sent=1');
    const confirm = linkToken((await lastMessage(t, `moved-${user.username}@example.net`))!.body, '/account/email/confirm?token');
    await look(signedIn, `/account/email/confirm?token=${confirm}`);

    // The duplicate account: the phone page's phone_in_use answer.
    const holder = await signUp(t);
    const number = await verifyNumber(t, holder);
    await signedIn.get('/account/phone');
    const inUse = await signedIn.post('/account/phone', { country: 'PH', phone: number, channel: 'sms' });
    expect(inUse.statusCode).toBe(409);
    keep(signedIn, '/account/phone (phone_in_use)', inUse.body);

    // Walk every link of every page seen, as the visitor who saw it.
    const routes = postRoutes();
    const dead: string[] = [];
    const checked = new Map<string, number>();
    for (const { page, visitor, html } of seen) {
      for (const href of hrefs(html)) {
        if (/^(https?:|mailto:)/.test(href)) continue;
        const path = href.split('#')[0]!;
        if (!path || BEING_BUILT.has(path.split('?')[0]!)) continue;
        const key = `${visitor.ip} ${path}`;
        const status = checked.get(key) ?? (await visitor.get(path)).statusCode;
        checked.set(key, status);
        if (status === 404 || status >= 500) dead.push(`${page} → ${href} (${status})`);
      }
      for (const action of actions(html)) {
        if (!routes.some((r) => r.test(action.split('?')[0]!))) dead.push(`${page} → form ${action} (no POST route)`);
      }
    }
    expect(dead).toEqual([]);
    expect(checked.size).toBeGreaterThan(20);
  });
});

async function stepUpByPassword(visitor: Visitor, password: string): Promise<void> {
  await visitor.get('/account/step-up?next=%2Faccount%2Femail');
  const res = await visitor.post('/account/step-up', { next: '/account/email', method: 'password', password });
  expect(res.headers.location).toBe('/account/email');
}

