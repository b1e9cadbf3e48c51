import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, lastMessage, linkToken, randomIp, type SignedUp, type TestApp } from '../helpers/app.js';
import { control, decode, textOf, Visitor } from '../pages/form.js';
import { answerLink, memberWithQuestion, NEW, NEW_TEXT, OLD_ANSWER } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** The href of the page's main button (message.eta's "next" link). */
function button(html: string): string {
  const href = /<a class="button" href="([^"]+)"/.exec(html)?.[1];
  if (!href) throw new Error(`no button in ${html.slice(0, 500)}`);
  return decode(href);
}

/**
 * From a page that shows the security question at `path` (posting to `action`): "Forgot your
 * answer?", the "we sent you a link" page, the e-mailed link's form (a refusal first), and the
 * page after it, whose button leads back to `back`. Returns that page's response.
 */
async function forgetAndReset(visitor: Visitor, member: SignedUp, path: string, action: string, next: string, back: string) {
  const asking = await visitor.get(path);
  expect(asking.statusCode, asking.body.slice(0, 300)).toBe(200);
  expect(asking.body).toContain('What was the name of your first pet?');
  expect(asking.body).toContain(`action="${action}/forgot-answer"`);
  const asked = await visitor.post(`${action}/forgot-answer`, { next, method: 'security_question' });
  expect(asked.statusCode, asked.body.slice(0, 300)).toBe(303);
  expect(asked.headers.location).toBe('/recover/security-answer/sent');
  expect(visitor.lastSetCookies.get('verity_answer_return')).toMatch(/HttpOnly; SameSite=Lax/i);
  const sent = await visitor.get('/recover/security-answer/sent');
  expect(sent.body).toContain('We sent you a link');
  expect(button(sent.body)).toBe(back);

  const token = await answerLink(t, member);
  const form = await visitor.get(`/recover/security-answer/${token}`);
  expect(form.statusCode).toBe(200);
  expect(control(form.body, 'question')).toBeDefined();
  expect(control(form.body, 'answer')).toMatchObject({ autocomplete: 'off' });
  const short = await visitor.post(`/recover/security-answer/${token}`, { question: NEW.question, answer: 'ab' });
  expect(short.statusCode).toBe(422);
  expect(textOf(short.body, 'f-answer-error')).toBe('Use at least 3 characters.');
  expect(short.body).toMatch(new RegExp(`<option value="${NEW.question}" selected>`));
  const saved = await visitor.post(`/recover/security-answer/${token}`, NEW);
  expect(saved.statusCode).toBe(303);
  expect(saved.headers.location).toBe('/recover/security-answer/done');
  const done = await visitor.get('/recover/security-answer/done');
  expect(done.body).toContain('New answer saved');
  expect(button(done.body)).toBe(back);
  // The link worked once.
  expect((await visitor.get(`/recover/security-answer/${token}`)).statusCode).toBe(410);
  return done;
}

describe('"Forgot your answer?" without JavaScript', () => {
  it('at sign-in: the link sets a new answer, and the way back leads to the second step, which takes it', async () => {
    const member = await memberWithQuestion(t);
    const visitor = new Visitor(t);
    await visitor.get('/login');
    const signIn = await visitor.post('/login', { login: member.username, password: member.password, next: '/account/security' });
    expect(signIn.headers.location).toBe('/login/verify?next=%2Faccount%2Fsecurity');
    const back = '/login/verify?next=%2Faccount%2Fsecurity&method=security_question';
    await forgetAndReset(visitor, member, back, '/login/verify', '/account/security', back);

    const step = await visitor.get(back);
    expect(step.body).toContain(NEW_TEXT);
    const old = await visitor.post('/login/verify', { next: '/account/security', method: 'security_question', answer: OLD_ANSWER });
    expect(old.statusCode).toBe(422);
    const ok = await visitor.post('/login/verify', { next: '/account/security', method: 'security_question', answer: NEW.answer });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/account/security');
    expect(visitor.cookies.has('verity_session')).toBe(true);
  });

  it('at the reset link\'s two-step check: the page says why the inbox cannot stand in, and offers the other ways', async () => {
    const member = await memberWithQuestion(t);
    await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login: member.username }, remoteAddress: randomIp() });
    const reset = linkToken((await lastMessage(t, member.email))!.body, '/recover/password');
    const visitor = new Visitor(t);
    expect((await visitor.get(`/recover/password/${reset}`)).headers.location).toBe(`/recover/password/${reset}/check`);
    const asking = await visitor.get(`/recover/password/${reset}/check?method=security_question`);
    expect(asking.body).toContain(`action="/recover/password/${reset}/check/forgot-answer"`);
    const refused = await visitor.post(`/recover/password/${reset}/check/forgot-answer`, { method: 'security_question' });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('role="alert"');
    expect(decode(refused.body)).toContain('same inbox');
    expect(refused.body).toContain('href="/support/contact"');
    const ok = await visitor.post(`/recover/password/${reset}/check`, { method: 'security_question', answer: OLD_ANSWER });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe(`/recover/password/${reset}`);
  });

  it('at step-up: back to /account/step-up, which returns to the page that asked', async () => {
    const member = await memberWithQuestion(t);
    const visitor = new Visitor(t);
    visitor.cookies.set('verity_session', member.token);
    const back = '/account/step-up?next=%2Faccount%2Fsecurity&method=security_question';
    await forgetAndReset(visitor, member, back, '/account/step-up', '/account/security', back);

    const ok = await visitor.post('/account/step-up', { next: '/account/security', method: 'security_question', answer: NEW.answer });
    expect(ok.statusCode, ok.body.slice(0, 300)).toBe(303);
    expect(ok.headers.location).toBe('/account/security');
  });

  it('opened in another browser, the way back is sign-in; a refusal shows on the asking page; a bad link is 410', async () => {
    const member = await memberWithQuestion(t, { question: true });
    const visitor = new Visitor(t);
    await visitor.get('/login');
    await visitor.post('/login', { login: member.username, password: member.password, next: '/account' });
    await visitor.get('/login/verify?next=%2Faccount&method=security_question');
    for (let i = 0; i < 3; i++) expect((await visitor.post('/login/verify/forgot-answer', { next: '/account', method: 'security_question' })).statusCode).toBe(303);
    const capped = await visitor.post('/login/verify/forgot-answer', { next: '/account', method: 'security_question' });
    expect(capped.statusCode).toBe(429);
    expect(capped.headers['retry-after']).toBeDefined();
    expect(capped.body).toContain('role="alert"');
    expect(capped.body).toContain('What was the name of your first pet?');

    const elsewhere = new Visitor(t);
    const token = await answerLink(t, member);
    await elsewhere.get(`/recover/security-answer/${token}`);
    expect((await elsewhere.post(`/recover/security-answer/${token}`, NEW)).headers.location).toBe('/recover/security-answer/done');
    expect(button((await elsewhere.get('/recover/security-answer/done')).body)).toBe('/login');

    const bad = await elsewhere.get(`/recover/security-answer/${token.slice(0, -2)}xx`);
    expect(bad.statusCode).toBe(410);
    expect(bad.body).toContain('Link expired or invalid');
    const badPost = await elsewhere.post(`/recover/security-answer/${token}`, NEW);
    expect(badPost.statusCode).toBe(410);
  });

  it('a planted return cookie cannot send the member off-site', async () => {
    const visitor = new Visitor(t);
    visitor.cookies.set('verity_answer_return', encodeURIComponent('//evil.example/x'));
    expect(button((await visitor.get('/recover/security-answer/done')).body)).toBe('/login');
    visitor.cookies.set('verity_answer_return', encodeURIComponent('https://evil.example/'));
    expect(button((await visitor.get('/recover/security-answer/sent')).body)).toBe('/login');
  });
});
