import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastMessage, signUp, type SignedUp, type TestApp, createTestApp } from '../helpers/app.js';
import { control, decode, signUpByForm, textOf, Visitor } from '../pages/form.js';
import { makeAgent, newTicket, pageLinkIn } from './helpers.js';

let t: TestApp;
let agent: SignedUp;

beforeAll(async () => {
  t = await createTestApp();
  ({ agent } = await makeAgent(t, { fullName: 'Maria Santos' }));
});
afterAll(() => t.close());

/** A visitor signed in with the API's account through the login form. */
async function signedIn(who: SignedUp): Promise<Visitor> {
  const visitor = new Visitor(t);
  await visitor.get('/login');
  const res = await visitor.post('/login', { login: who.username, password: who.password });
  expect(res.statusCode).toBe(303);
  return visitor;
}

/** Fills /support/contact as a signed-out visitor; returns the ticket page it was sent to. */
async function contact(visitor: Visitor, overrides: Record<string, string> = {}) {
  await visitor.get('/support/contact');
  const input = newTicket(overrides) as Record<string, string>;
  const res = await visitor.post('/support/contact', { ...input, login: overrides.login ?? '' });
  return { res, input };
}

describe('reaching the contact form', () => {
  it('is linked from the footer of every page and from the recovery dead-ends', async () => {
    const visitor = new Visitor(t);
    for (const path of ['/', '/help', '/login', '/recover/password', '/recover/no-email', '/support/compromised']) {
      const res = await visitor.get(path);
      expect(res.body, path).toMatch(/<footer class="site">[\s\S]*href="\/support\/contact"/);
    }
    expect((await visitor.get('/recover/no-email')).body).toMatch(/<main[\s\S]*href="\/support\/contact"[\s\S]*<\/main>/);
    const form = await visitor.get('/support/contact');
    expect(form.statusCode).toBe(200);
    for (const name of ['name', 'email', 'login', 'category', 'subject', 'message']) expect(control(form.body, name), name).toBeDefined();
  });

  it("fills in a signed-in member's e-mail and username", async () => {
    const { visitor, user } = await signUpByForm(t);
    const form = await visitor.get('/support/contact');
    expect(control(form.body, 'email')?.value).toBe(user.email);
    expect(control(form.body, 'login')?.value).toBe(user.username);
  });
});

describe('the contact form', () => {
  it('opens a ticket and redirects (303) to its page, which shows the conversation and a reply form', async () => {
    const visitor = new Visitor(t);
    const { res, input } = await contact(visitor);
    expect(res.statusCode).toBe(303);
    const location = String(res.headers.location);
    expect(location).toMatch(/^\/support\/tickets\/[0-9a-f-]{36}\?key=[A-Za-z0-9_-]+&done=created$/);
    const page = await visitor.get(location);
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(decode(page.body)).toContain(input.subject);
    expect(decode(page.body)).toContain(input.message);
    expect(page.body).toContain('We received your request');
    expect(control(page.body, 'message')).toBeDefined();
  });

  it('re-renders a refused form with the problem beside the field and the input kept, opening nothing', async () => {
    const visitor = new Visitor(t);
    const before = await t.db.selectFrom('support_cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const { res } = await contact(visitor, { email: 'nope', subject: 'Kept subject', category: '' });
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-email-error')).toContain('valid e-mail');
    expect(textOf(res.body, 'f-category-error')).toBe('Choose what your request is about.');
    expect(control(res.body, 'subject')?.value).toBe('Kept subject');
    expect(control(res.body, 'email')?.value).toBe('nope');
    const after = await t.db.selectFrom('support_cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('answers a known and an unknown login alike: status, redirect shape, cookies', async () => {
    const member = await signUp(t);
    const a = await contact(new Visitor(t), { login: member.username });
    const b = await contact(new Visitor(t), { login: `${member.username}zz` });
    expect(a.res.statusCode).toBe(b.res.statusCode);
    const shape = (l: unknown) => String(l).replace(/[0-9a-f-]{36}/, 'ID').replace(/key=[^&]+/, 'key=KEY');
    expect(shape(a.res.headers.location)).toBe(shape(b.res.headers.location));
    const names = (h: unknown) => (Array.isArray(h) ? h : h ? [h] : []).map((c: string) => c.split('=')[0]).sort();
    expect(names(a.res.headers['set-cookie'])).toEqual(names(b.res.headers['set-cookie']));
    const [pa, pb] = [await new Visitor(t).get(String(a.res.headers.location)), await new Visitor(t).get(String(b.res.headers.location))];
    const strip = (html: string) => html.replace(/[0-9a-f-]{36}/g, 'ID').replace(/key=[^"&]+/g, 'key=KEY').replace(/name="_csrf" value="[^"]+"/, '').replace(/\(\d+\)/g, '(N)').replace(/asker\d+\w+@/g, '').replace(/<time[^>]*>[^<]*<\/time>/g, '');
    expect(strip(pa.body)).toBe(strip(pb.body));
  });
});

describe('the ticket page', () => {
  it('answers 404 for a wrong key or id', async () => {
    const visitor = new Visitor(t);
    const { res } = await contact(visitor);
    const location = String(res.headers.location);
    const wrong = await visitor.get(location.replace(/key=[^&]+/, 'key=wrong'));
    expect(wrong.statusCode).toBe(404);
    expect((await visitor.get('/support/tickets/00000000-0000-4000-8000-000000000000?key=x')).statusCode).toBe(404);
    const post = await visitor.post(location.replace('?', '/messages?').replace(/key=[^&]+/, 'key=wrong'), { message: 'hi' });
    expect(post.statusCode).toBe(404);
  });

  it('takes a reply (303), reopens a solved ticket, and shows a closed one without a form', async () => {
    const visitor = new Visitor(t);
    const { res, input } = await contact(visitor);
    const { id, key, path } = pageLinkIn(String(res.headers.location));
    await t.app.verity.jobs.drain();
    // The agent solves it from the agent page.
    const staff = await signedIn(agent);
    await staff.get(`/agent/tickets/${id}`);
    const solved = await staff.post(`/agent/tickets/${id}/messages`, { message: 'Your address is changed.', status: 'solved' });
    expect(solved.statusCode).toBe(303);
    const mail = await lastMessage(t, String(input.email));
    expect(mail?.body).toContain('Your address is changed.');

    let page = await visitor.get(path);
    expect(page.body).toMatch(/data-testid="ticket-status">Solved</);
    expect(decode(page.body)).toContain('Maria, Verity Support');
    expect(page.body).not.toContain(agent.username);
    const blank = await visitor.post(`/support/tickets/${id}/messages?key=${encodeURIComponent(key)}`, { message: '  ' });
    expect(blank.statusCode).toBe(400);
    expect(textOf(blank.body, 'f-message-error')).toBe('Write a message.');
    const reply = await visitor.post(`/support/tickets/${id}/messages?key=${encodeURIComponent(key)}`, { message: 'It still fails.' });
    expect(reply.statusCode).toBe(303);
    page = await visitor.get(String(reply.headers.location));
    expect(page.body).toContain('It still fails.');
    expect(page.body).toMatch(/data-testid="ticket-status">Open</);

    await staff.get(`/agent/tickets/${id}`);
    expect((await staff.post(`/agent/tickets/${id}/status`, { status: 'closed' })).statusCode).toBe(303);
    page = await visitor.get(path);
    expect(page.body).toContain('This request is closed');
    expect(control(page.body, 'message')).toBeUndefined();
    const late = await visitor.post(`/support/tickets/${id}/messages?key=${encodeURIComponent(key)}`, { message: 'Hello?' });
    expect(late.statusCode).toBe(409);
    expect(decode(late.body)).toContain('This request is closed');
  });
});

describe('the agent ticket page', () => {
  it('is for staff only: a visitor goes to sign in, a member gets 403, an agent sees the case', async () => {
    const visitor = new Visitor(t);
    const { res, input } = await contact(visitor);
    const { id } = pageLinkIn(String(res.headers.location));
    const anonymous = await new Visitor(t).get(`/agent/tickets/${id}`);
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe(`/login?next=${encodeURIComponent(`/agent/tickets/${id}`)}`);
    const member = await signedIn(await signUp(t));
    expect((await member.get(`/agent/tickets/${id}`)).statusCode).toBe(403);
    await member.get('/support/contact');
    expect((await member.post(`/agent/tickets/${id}/status`, { status: 'closed' })).statusCode).toBe(403);
    const staff = await signedIn(agent);
    const page = await staff.get(`/agent/tickets/${id}`);
    expect(page.statusCode).toBe(200);
    expect(decode(page.body)).toContain(input.email);
    expect(decode(page.body)).toContain(input.message);
    expect(page.body).toMatch(/data-testid="ticket-status">Open</);
  });

  it('re-renders a blank reply with the error beside the field, changing nothing', async () => {
    const { res } = await contact(new Visitor(t));
    const { id } = pageLinkIn(String(res.headers.location));
    const staff = await signedIn(agent);
    await staff.get(`/agent/tickets/${id}`);
    const blank = await staff.post(`/agent/tickets/${id}/messages`, { message: '', status: 'solved' });
    expect(blank.statusCode).toBe(400);
    expect(textOf(blank.body, 'f-message-error')).toBeTruthy();
    expect(blank.body).toMatch(/data-testid="ticket-status">Open</);
  });
});
