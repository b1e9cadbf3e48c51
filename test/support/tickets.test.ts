import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, lastMessage, problem, randomIp, signUp, type SignedUp, type TestApp, createTestApp } from '../helpers/app.js';
import { loadConfig } from '../../src/platform/config.js';
import { makeAgent, newTicket, openTicket, pageLinkIn, ticketUrl } from './helpers.js';

let t: TestApp;
let agent: SignedUp;
let admin: SignedUp;

beforeAll(async () => {
  t = await createTestApp();
  ({ agent, admin } = await makeAgent(t, { fullName: 'Maria Santos' }));
});
afterAll(() => t.close());

async function count(table: 'support_cases' | 'support_tickets' | 'ticket_messages' | 'outbox' | 'jobs'): Promise<number> {
  const row = await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function view(id: string, key: string) {
  const res = await t.app.inject({ method: 'GET', url: ticketUrl(id, key) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { status: string; subject: string; messages: Array<Record<string, unknown>> };
}

const agentReply = (id: string, payload: Record<string, unknown>, who = agent) =>
  t.app.inject({ method: 'POST', url: `/v1/agent/tickets/${id}/messages`, headers: auth(who.token), payload });
const setStatus = (id: string, status: string, who = agent) => t.app.inject({ method: 'PATCH', url: `/v1/agent/tickets/${id}`, headers: auth(who.token), payload: { status } });
const memberReply = (id: string, key: string, message: string) => t.app.inject({ method: 'POST', url: ticketUrl(id, key, '/messages'), payload: { message } });

describe('opening a ticket without signing in', () => {
  it('answers 201 with the id and a key, and the key opens the conversation', async () => {
    const { ticketId, key, status, input } = await openTicket(t);
    expect(status).toBe('open');
    expect(key.length).toBeGreaterThanOrEqual(40);
    const ticket = await view(ticketId, key);
    expect(ticket).toMatchObject({ status: 'open', subject: input.subject, category: 'account_recovery' });
    expect(ticket.messages).toEqual([{ author: 'requester', from: 'Ana Reyes', body: input.message, createdAt: expect.any(String) }]);
  });

  it('keeps only an HMAC of the key', async () => {
    const { ticketId, key } = await openTicket(t);
    const rows = await t.db.selectFrom('ticket_keys').select('key_hash').where('case_id', '=', ticketId).execute();
    expect(rows.length).toBe(2);
    expect(JSON.stringify(rows)).not.toContain(key);
  });

  it('e-mails an acknowledgement whose link opens the page', async () => {
    const { ticketId, input } = await openTicket(t);
    const mail = await lastMessage(t, input.email);
    expect(mail?.subject).toBe(`We received your request: ${input.subject}`);
    const link = pageLinkIn(mail!.body);
    expect(link.id).toBe(ticketId);
    expect((await view(link.id, link.key)).subject).toBe(input.subject);
  });

  it('keeps a name and subject on one line (they go into e-mail headers)', async () => {
    const { ticketId, key, input } = await openTicket(t, { subject: 'Help\r\nBcc: victim@example.org', name: ' Ana\n Reyes ' });
    const ticket = await view(ticketId, key);
    expect(ticket.subject).toBe('Help Bcc: victim@example.org');
    expect(ticket.messages[0]!.from).toBe('Ana Reyes');
    const mail = await lastMessage(t, input.email);
    expect(mail?.subject).toBe('We received your request: Help Bcc: victim@example.org');
  });

  it('is a support case of kind ticket in the shared queue; a compromise is high priority', async () => {
    const { ticketId } = await openTicket(t, { category: 'compromised' });
    const row = await t.db.selectFrom('support_cases').selectAll().where('id', '=', ticketId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ kind: 'ticket', priority: 'high', status: 'open' });
  });
});

describe('a wrong key or id', () => {
  it('answers 404 alike for a wrong key, an unknown id and a malformed id', async () => {
    const { ticketId, key } = await openTicket(t);
    const answers = await Promise.all(
      [ticketUrl(ticketId, key.slice(0, -2) + 'xx'), ticketUrl('00000000-0000-4000-8000-000000000000', key), ticketUrl('not-a-ticket', key), ticketUrl(ticketId, 'x')].map((url) =>
        t.app.inject({ method: 'GET', url }),
      ),
    );
    for (const res of answers) expect(res.statusCode).toBe(404);
    expect(new Set(answers.map((r) => r.body)).size).toBe(1);
    expect(problem(answers[0]!).code).toBe('not_found');
  });

  it('cannot add a message', async () => {
    const { ticketId, key } = await openTicket(t);
    const before = await count('ticket_messages');
    const res = await memberReply(ticketId, key + 'x', 'let me in');
    expect(res.statusCode).toBe(404);
    expect(await count('ticket_messages')).toBe(before);
  });
});

describe('bad input', () => {
  it.each([
    ['an unknown field', { admin: true }, '/admin'],
    ['a bad e-mail', { email: 'not-an-address' }, '/email'],
    ['an unknown category', { category: 'refunds' }, '/category'],
    ['a blank subject', { subject: '   ' }, '/subject'],
    ['a blank message', { message: '\n\t ' }, '/message'],
    ['an over-long message', { message: 'x'.repeat(10_001) }, '/message'],
  ])('refuses %s with 400 and changes nothing', async (_label, change, path) => {
    const before = await Promise.all([count('support_cases'), count('ticket_messages'), count('outbox'), count('jobs')]);
    const res = await t.app.inject({ method: 'POST', url: '/v1/support/tickets', payload: newTicket(change), remoteAddress: randomIp() });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.stringify(problem(res).errors)).toContain(path === '/admin' ? '' : path);
    expect(await Promise.all([count('support_cases'), count('ticket_messages'), count('outbox'), count('jobs')])).toEqual(before);
  });

  it('refuses a blank reply and an empty agent reply', async () => {
    const { ticketId, key } = await openTicket(t);
    expect((await memberReply(ticketId, key, '  ')).statusCode).toBe(400);
    expect((await agentReply(ticketId, { message: '' })).statusCode).toBe(400);
    expect((await setStatus(ticketId, 'reopened')).statusCode).toBe(400);
    expect((await view(ticketId, key)).messages).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('stops at start on a reply address whose tagged form would not fit an address', () => {
    expect(() => loadConfig({ SUPPORT_REPLY_ADDRESS: 'much-too-long-local-part@example.com' })).toThrow(/SUPPORT_REPLY_ADDRESS/);
    expect(() => loadConfig({ SUPPORT_REPLY_ADDRESS: 'Support <help@example.com>' })).toThrow(/SUPPORT_REPLY_ADDRESS/);
    expect(loadConfig({ SUPPORT_REPLY_ADDRESS: 'Help@Example.com' }).supportReplyAddress).toBe('help@example.com');
    expect(loadConfig({}).supportReplyAddress).toBe('support@verity.local');
  });
});

describe('rate limits', () => {
  it('allows 10 tickets an hour from one IP, then 429 with Retry-After', async () => {
    const ip = randomIp();
    for (let i = 0; i < 10; i++) await openTicket(t, {}, ip);
    const before = await count('support_cases');
    const res = await t.app.inject({ method: 'POST', url: '/v1/support/tickets', payload: newTicket(), remoteAddress: ip });
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(problem(res).retryAfter).toBeGreaterThan(0);
    expect(await count('support_cases')).toBe(before);
    t.clock.advance(3600 * 1000);
    await openTicket(t, {}, ip);
  });

  it('allows 5 tickets an hour for one e-mail address, whatever the IP', async () => {
    const email = `Repeat${Date.now()}@Example.org`;
    for (let i = 0; i < 5; i++) await openTicket(t, { email: i % 2 ? email.toLowerCase() : email });
    const res = await t.app.inject({ method: 'POST', url: '/v1/support/tickets', payload: newTicket({ email }), remoteAddress: randomIp() });
    expect(res.statusCode).toBe(429);
  });

  it('bounds replies to one ticket', async () => {
    const { ticketId, key } = await openTicket(t);
    for (let i = 0; i < 30; i++) expect((await memberReply(ticketId, key, `note ${i}`)).statusCode).toBe(201);
    const res = await memberReply(ticketId, key, 'one more');
    expect(res.statusCode).toBe(429);
    expect((await view(ticketId, key)).messages).toHaveLength(31);
  });
});

describe('no enumeration', () => {
  it('answers a known and an unknown login identically: body shape, headers, cookies, e-mail', async () => {
    const member = await signUp(t);
    const ask = (login: string) => t.app.inject({ method: 'POST', url: '/v1/support/tickets', payload: newTicket({ login, email: `same${login.length}x@example.org` }), remoteAddress: randomIp() });
    const known = await ask(member.username);
    const unknown = await ask(member.username.replace(/.$/, (c) => (c === 'z' ? 'y' : 'z')));
    expect(known.statusCode).toBe(201);
    expect(unknown.statusCode).toBe(201);
    const shape = (body: string) => body.replace(/"ticketId":"[^"]+"/, '"ticketId":"ID"').replace(/"key":"[^"]+"/, '"key":"KEY"');
    expect(shape(known.body)).toBe(shape(unknown.body));
    const headers = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([name]) => !['date', 'x-request-id'].includes(name)));
    expect(headers(known.headers)).toEqual(headers(unknown.headers));
    expect(known.headers['set-cookie']).toBeUndefined();
    const mails = await Promise.all([lastMessage(t, `same${member.username.length}x@example.org`)]);
    expect(mails[0]).toBeDefined();
    // Only the agents learn it, once the job has looked the login up.
    await t.app.verity.jobs.drain();
    const knownCase = await t.app.inject({ method: 'GET', url: `/v1/agent/tickets/${known.json().ticketId}`, headers: auth(agent.token) });
    const unknownCase = await t.app.inject({ method: 'GET', url: `/v1/agent/tickets/${unknown.json().ticketId}`, headers: auth(agent.token) });
    expect(knownCase.json().account).toMatchObject({ id: member.id, username: member.username });
    expect(unknownCase.json().account).toBeNull();
    // The requester's own view never says.
    const k = known.json();
    expect(JSON.stringify(await view(k.ticketId, k.key))).not.toContain(member.id);
  });

  it('sends the same acknowledgement for a known and an unknown login', async () => {
    const member = await signUp(t);
    const a = await openTicket(t, { login: member.email, email: 'twin-a@example.org', subject: 'Same subject' });
    const b = await openTicket(t, { login: 'nobody-here@example.org', email: 'twin-b@example.org', subject: 'Same subject' });
    const [ma, mb] = [await lastMessage(t, 'twin-a@example.org'), await lastMessage(t, 'twin-b@example.org')];
    const strip = (body: string) => body.replace(/\/support\/tickets\/\S+/g, 'LINK');
    expect(strip(ma!.body)).toBe(strip(mb!.body));
    expect(ma!.subject).toBe(mb!.subject);
    expect(a.ticketId).not.toBe(b.ticketId);
  });
});

describe('the conversation, both ways', () => {
  it('agent reply → pending; member reply → open; solved reopens; closed refuses both sides', async () => {
    const { ticketId, key, input } = await openTicket(t);
    const first = await agentReply(ticketId, { message: 'Which country did you sign up from?' });
    expect(first.statusCode).toBe(201);
    expect(first.json().status).toBe('pending');
    let ticket = await view(ticketId, key);
    expect(ticket.status).toBe('pending');
    expect(ticket.messages[1]).toEqual({ author: 'agent', from: 'Maria, Verity Support', body: 'Which country did you sign up from?', createdAt: expect.any(String) });
    expect(JSON.stringify(ticket)).not.toContain(agent.id);
    expect(JSON.stringify(ticket)).not.toContain(agent.username);

    // The reply is e-mailed with a working link.
    const mail = await lastMessage(t, input.email);
    expect(mail?.subject).toBe(`Re: ${input.subject}`);
    expect(mail?.body).toContain('Which country did you sign up from?');
    expect((await view(pageLinkIn(mail!.body).id, pageLinkIn(mail!.body).key)).messages).toHaveLength(2);

    const back = await memberReply(ticketId, key, 'The Philippines.');
    expect(back.statusCode).toBe(201);
    expect((await view(ticketId, key)).status).toBe('open');

    expect((await agentReply(ticketId, { message: 'Done: check your new e-mail.', status: 'solved' })).json().status).toBe('solved');
    expect((await view(ticketId, key)).status).toBe('solved');
    expect((await memberReply(ticketId, key, 'It did not arrive.')).statusCode).toBe(201);
    expect((await view(ticketId, key)).status).toBe('open');

    expect((await setStatus(ticketId, 'closed')).json()).toEqual({ id: ticketId, status: 'closed' });
    const late = await memberReply(ticketId, key, 'Hello?');
    expect(late.statusCode).toBe(409);
    expect(problem(late).code).toBe('ticket_closed');
    expect(problem(late).detail).toContain('/support/contact');
    expect((await agentReply(ticketId, { message: 'again' })).statusCode).toBe(409);
    expect((await setStatus(ticketId, 'open')).statusCode).toBe(409);
    ticket = await view(ticketId, key);
    expect(ticket.status).toBe('closed');
    expect(ticket.messages.map((m) => m.author)).toEqual(['requester', 'agent', 'requester', 'agent', 'requester']);
  });

  it('a reply and a close at the same moment: the database decides, and a closed ticket holds no later reply', async () => {
    const { ticketId, key } = await openTicket(t);
    const [reply, close] = await Promise.all([memberReply(ticketId, key, 'racing'), setStatus(ticketId, 'closed')]);
    expect(close.statusCode).toBe(200);
    expect([201, 409]).toContain(reply.statusCode);
    expect((await view(ticketId, key)).status).toBe('closed');
  });

  it('shows "Verity Support" for an agent without a name', async () => {
    const plain = await signUp(t);
    await t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(admin.token), payload: { login: plain.username, role: 'agent' } });
    const { ticketId, key } = await openTicket(t);
    await agentReply(ticketId, { message: 'Hello' }, plain);
    expect((await view(ticketId, key)).messages[1]!.from).toBe('Verity Support');
  });

  it('writes every staff action to the audit log with the agent id', async () => {
    const { ticketId } = await openTicket(t);
    await agentReply(ticketId, { message: 'Looking into it' });
    await setStatus(ticketId, 'solved', admin);
    const events = await t.db.selectFrom('audit_events').select(['event', 'actor_id', 'details']).where('event', 'like', 'support.ticket_%').execute();
    const mine = events.filter((e) => JSON.stringify(e.details).includes(ticketId));
    expect(mine.map((e) => [e.event, e.actor_id])).toEqual([
      ['support.ticket_replied', agent.id],
      ['support.ticket_status_changed', admin.id],
    ]);
  });
});

describe('agent routes', () => {
  it('refuse a member (403) and a visitor (401), and change nothing', async () => {
    const member = await signUp(t);
    const { ticketId, key } = await openTicket(t);
    for (const headers of [auth(member.token), {}]) {
      const status = Object.keys(headers).length ? 403 : 401;
      expect((await t.app.inject({ method: 'GET', url: `/v1/agent/tickets/${ticketId}`, headers })).statusCode).toBe(status);
      expect((await t.app.inject({ method: 'POST', url: `/v1/agent/tickets/${ticketId}/messages`, headers, payload: { message: 'hi' } })).statusCode).toBe(status);
      expect((await t.app.inject({ method: 'PATCH', url: `/v1/agent/tickets/${ticketId}`, headers, payload: { status: 'closed' } })).statusCode).toBe(status);
    }
    const ticket = await view(ticketId, key);
    expect(ticket.status).toBe('open');
    expect(ticket.messages).toHaveLength(1);
  });

  it('answer 404 for an unknown ticket, and for a case that is not a ticket', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/agent/tickets/00000000-0000-4000-8000-000000000000', headers: auth(agent.token) })).statusCode).toBe(404);
    const other = await t.db.transaction().execute((trx) => t.app.verity.support.open(trx, { kind: 'compromised', priority: 'high', accountId: null, source: 'test' }));
    expect((await setStatus(other.id, 'solved')).statusCode).toBe(404);
  });
});
