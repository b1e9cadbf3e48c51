import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { decode, Visitor } from '../pages/form.js';
import { caseOf, decide, HOUR, MailCatcher, requestReset, resetApp, resetBody, settle, staff, statusLinkIn } from './support.js';

let t: TestApp;
let mail: MailCatcher;
let agent: SignedUp;
beforeAll(async () => {
  mail = new MailCatcher();
  await mail.start();
  t = await resetApp(mail);
  ({ agent } = await staff(t));
});
afterAll(async () => {
  await t.close();
  await mail.close();
});

async function signedIn(who: SignedUp): Promise<Visitor> {
  const visitor = new Visitor(t);
  await visitor.get('/login');
  const res = await visitor.post('/login', { login: who.username, password: who.password });
  expect(res.statusCode, res.body).toBe(303);
  return visitor;
}

describe('the security reset pages without JavaScript', () => {
  it('posts the form, 303 to the next page; a refusal re-renders beside the field with the input kept', async () => {
    const visitor = new Visitor(t);
    const form = await visitor.get('/recover/security-reset?login=maria');
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('value="maria"');
    const refused = await visitor.post('/recover/security-reset', { login: 'maria', fullName: 'Maria Santos', contactEmail: 'not an address', details: 'Lost it', oldPhoneDigits: '12a', country: '' });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(/id="f-contactEmail-error"/);
    expect(refused.body).toMatch(/id="f-oldPhoneDigits-error"/);
    expect(refused.body).toContain('value="Maria Santos"');
    expect(refused.body).toContain('>Lost it</textarea>');
    const contact = `page-${Date.now()}@contact.test`;
    const sent = await visitor.post('/recover/security-reset', { login: 'maria', fullName: 'Maria Santos', contactEmail: contact, details: 'Lost it', oldPhoneDigits: '', country: '' });
    expect(sent.statusCode, sent.body).toBe(303);
    expect(sent.headers.location).toBe('/recover/security-reset/sent');
    expect((await visitor.get('/recover/security-reset/sent')).body).toContain('Request received');
    await settle(t);
    const link = statusLinkIn(mail.last(contact));
    const page = await visitor.get(link.path);
    expect(page.body).toContain('data-status="pending_review"');
    expect((await visitor.get(`/recover/security-reset/${link.requestId}?key=wrong`)).statusCode).toBe(404);
  });

  it('every challenge page offers "I can\'t use any of these methods"', async () => {
    const who = await signUp(t);
    const visitor = await signedIn(who);
    const stepUp = await visitor.get('/account/step-up?next=/account/security');
    expect(stepUp.body).toContain('href="/recover/security-reset"');
    expect(decode(stepUp.body)).toContain("I can't use any of these methods");
  });

  it('the agent decides on the case page: a missing note re-renders with the choice kept, then 303 to the case', async () => {
    const who = await signUp(t, { fullName: 'Maria Santos' });
    const body = resetBody(who.username);
    const { requestId } = (await requestReset(t, body)).json() as { requestId: string };
    await settle(t);
    const desk = await signedIn(agent);
    const page = await desk.get(`/agent/security-resets/${requestId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="two-step-methods"');
    const refused = await desk.post(`/agent/security-resets/${requestId}/decision`, { decision: 'request_info', note: '' });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(/id="f-note-error"/);
    expect(refused.body).toMatch(/value="request_info" checked/);
    const done = await desk.post(`/agent/security-resets/${requestId}/decision`, { decision: 'request_info', note: 'When did you last sign in?' });
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe(`/agent/security-resets/${requestId}?done=request_info`);

    // The requester answers on the status page (a form post too).
    const link = statusLinkIn(mail.last(body.contactEmail));
    const requester = new Visitor(t);
    const status = await requester.get(link.path);
    expect(status.body).toContain('When did you last sign in?');
    const empty = await requester.post(`/recover/security-reset/${requestId}/info`, { key: link.key, details: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toMatch(/id="f-details-error"/);
    const added = await requester.post(`/recover/security-reset/${requestId}/info`, { key: link.key, details: 'Yesterday, from Manila.' });
    expect(added.statusCode).toBe(303);
    expect((await requester.get(added.headers.location as string)).body).toContain('data-status="pending_review"');
    // A second decision from the page is refused beside the form.
    await decide(t, agent, requestId, 'deny', 'Not enough to go on.');
    const late = await desk.post(`/agent/security-resets/${requestId}/decision`, { decision: 'approve', note: 'late' });
    expect(late.statusCode).toBe(409);
    expect(decode(late.body)).toContain('already been decided');
  });

  it("the owner's cancel link asks before it cancels (mail scanners open links)", async () => {
    const who = await signUp(t, { fullName: 'Maria Santos' });
    const { requestId } = (await requestReset(t, resetBody(who.username))).json() as { requestId: string };
    await settle(t);
    expect((await decide(t, agent, requestId, 'approve')).statusCode).toBe(200);
    await settle(t);
    const token = /\/recover\/security-reset\/cancel\/([A-Za-z0-9_-]+)/.exec(mail.last(who.email).text ?? '')![1]!;
    const owner = new Visitor(t);
    const ask = await owner.get(`/recover/security-reset/cancel/${token}`);
    expect(ask.statusCode).toBe(200);
    expect((await caseOf(t, agent, requestId)).json().request.status).toBe('approved');
    const cancelled = await owner.post(`/recover/security-reset/cancel/${token}`, {});
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.body).toContain('Reset cancelled');
    expect((await owner.post(`/recover/security-reset/cancel/${token}`, {})).statusCode).toBe(410);
  });
});

describe('what the agent sees beside the request', () => {
  it('lists earlier requests and open compromise reports of the account', async () => {
    const who = await signUp(t);
    const first = (await requestReset(t, resetBody(who.username))).json().requestId as string;
    await settle(t);
    await decide(t, agent, first, 'deny', 'No.');
    await t.app.inject({ method: 'POST', url: '/v1/recovery/compromised', payload: { login: who.username, contactEmail: 'worried@example.org', details: 'Strange proposals sent' }, remoteAddress: randomIp() });
    const second = (await requestReset(t, resetBody(who.email))).json().requestId as string;
    await settle(t);
    const view = (await caseOf(t, agent, second)).json();
    expect(view.earlierRequests).toEqual([expect.objectContaining({ id: first, status: 'denied' })]);
    expect(view.compromiseReports).toEqual([expect.objectContaining({ priority: 'high', source: 'anonymous_report' })]);
    const page = await (await signedIn(agent)).get(`/agent/security-resets/${second}`);
    expect(page.body).toContain('data-testid="compromise-reports"');
    expect(page.body).toContain(`href="/agent/security-resets/${first}"`);
  });

  it('a completed reset lets the requester ask for a new set-a-password link for a few days, by e-mail', async () => {
    const who = await signUp(t, { fullName: 'Maria Santos' });
    const body = resetBody(who.username);
    const { requestId } = (await requestReset(t, body)).json() as { requestId: string };
    await settle(t);
    const link = statusLinkIn(mail.last(body.contactEmail));
    await decide(t, agent, requestId, 'approve');
    t.clock.advanceSeconds(72 * HOUR + 1);
    await settle(t);
    const requester = new Visitor(t);
    await requester.get(link.path);
    const asked = await requester.post(`/recover/security-reset/${requestId}/password-link`, { key: link.key });
    expect(asked.statusCode).toBe(303);
    await settle(t);
    const links = mail.to(body.contactEmail).filter((m) => m.subject === 'Your security information was reset: choose a new password');
    expect(links).toHaveLength(2);
    // Only the newest link works.
    const token = (m: (typeof links)[0]) => /\/recover\/password\/([A-Za-z0-9_-]+)/.exec(m.text ?? '')![1]!;
    expect((await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${token(links[0]!)}` })).statusCode).toBe(410);
    expect((await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${token(links[1]!)}` })).statusCode).toBe(200);
    t.clock.advanceSeconds(8 * 24 * HOUR);
    const late = await t.app.inject({ method: 'POST', url: `/v1/recovery/security-reset/${requestId}/password-link?key=${link.key}` });
    expect(late.statusCode).toBe(404);
  });
});
