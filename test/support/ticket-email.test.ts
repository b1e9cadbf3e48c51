import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpTransport } from '../../src/platform/messaging/transports/smtp.js';
import { stripQuoted } from '../../src/support/ticket-mail.js';
import { auth, problem, signUp, type SignedUp, type TestApp, createTestApp } from '../helpers/app.js';
import { MailCatcher, makeAgent, openTicket, pageLinkIn, replyToOf, serviceKey, ticketUrl } from './helpers.js';

let t: TestApp;
let smtp: MailCatcher;
let agent: SignedUp;
let key: string;

beforeAll(async () => {
  smtp = new MailCatcher();
  await smtp.start();
  t = await createTestApp({
    env: { SUPPORT_REPLY_ADDRESS: 'help@verity.test' },
    transports: () => ({ email: new SmtpTransport(`smtp://127.0.0.1:${smtp.port}`, 'Verity <no-reply@verity.test>', 'verity.test', { ignoreTLS: true }) }),
  });
  const staff = await makeAgent(t);
  agent = staff.agent;
  key = await serviceKey(t, staff.admin);
});
afterAll(async () => {
  await t.close();
  await smtp.close();
});

const inbound = (payload: Record<string, unknown>, token = key) =>
  t.app.inject({ method: 'POST', url: '/v1/support/inbound-email', headers: auth(token), payload });

async function messages(id: string, pageKey: string) {
  const res = await t.app.inject({ method: 'GET', url: ticketUrl(id, pageKey) });
  expect(res.statusCode).toBe(200);
  return res.json() as { status: string; messages: Array<{ author: string; from: string; body: string }> };
}

describe('ticket e-mails through real SMTP', () => {
  it('acknowledges a new ticket with the page link and the ticket’s own reply address', async () => {
    const { ticketId, input } = await openTicket(t);
    const mail = await smtp.last(t, input.email);
    expect(mail.subject).toBe(`We received your request: ${input.subject}`);
    expect(mail.from?.text).toContain('no-reply@verity.test');
    expect(replyToOf(mail)).toMatch(new RegExp(`^help\\+${ticketId.replace(/-/g, '')}\\.[a-z2-7]{20}@verity\\.test$`));
    const link = pageLinkIn(mail.text ?? '');
    expect(link.id).toBe(ticketId);
    expect(mail.html).toContain(`/support/tickets/${ticketId}?key=`);
    expect((await messages(link.id, link.key)).messages).toHaveLength(1);
  });

  it('carries the agent’s reply to the requester; the member answers by e-mail, quoted history stripped', async () => {
    const { ticketId, key: pageKey, input } = await openTicket(t);
    const sent = await t.app.inject({ method: 'POST', url: `/v1/agent/tickets/${ticketId}/messages`, headers: auth(agent.token), payload: { message: 'Please tell us the last four digits of your old phone.' } });
    expect(sent.statusCode).toBe(201);
    const mail = await smtp.last(t, input.email, `Re: ${input.subject}`);
    expect(mail.text).toContain('Please tell us the last four digits of your old phone.');
    expect(mail.text).not.toContain(agent.username);
    const link = pageLinkIn(mail.text ?? '');
    expect((await messages(link.id, link.key)).status).toBe('pending');

    // What a mail program sends back: the answer, then the quoted e-mail.
    const quoted = (mail.text ?? '').split('\n').map((l) => `> ${l}`).join('\n');
    const reply = `They were 4821.\n\nThanks,\nAna\n\nOn Tue, 1 Dec 2026 at 16:40, Verity <no-reply@verity.test>\nwrote:\n${quoted}\n`;
    const res = await inbound({ recipient: `"Verity Support" <${replyToOf(mail)}>`, sender: input.email, subject: `Re: ${input.subject}`, text: reply, messageId: '<abc-1@mail.example.org>' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ ticketId, duplicate: false });
    const after = await messages(ticketId, pageKey);
    expect(after.status).toBe('open');
    expect(after.messages.at(-1)).toMatchObject({ author: 'requester', body: 'They were 4821.\n\nThanks,\nAna' });

    // The provider delivers the same message again: recognised, not added.
    const again = await inbound({ recipient: replyToOf(mail), sender: input.email, text: reply, messageId: '<abc-1@mail.example.org>' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true, messageId: res.json().messageId });
    expect((await messages(ticketId, pageKey)).messages).toHaveLength(3);
  });

  it('reopens a solved ticket by e-mail, and refuses one that is closed (409), adding nothing', async () => {
    const { ticketId, key: pageKey, input } = await openTicket(t);
    await t.app.inject({ method: 'POST', url: `/v1/agent/tickets/${ticketId}/messages`, headers: auth(agent.token), payload: { message: 'Fixed.', status: 'solved' } });
    const mail = await smtp.last(t, input.email, `Re: ${input.subject}`);
    expect(mail.text).toContain('We think this solves it');
    expect((await inbound({ recipient: replyToOf(mail), text: 'Not for me, sorry.' })).statusCode).toBe(201);
    expect((await messages(ticketId, pageKey)).status).toBe('open');
    await t.app.inject({ method: 'PATCH', url: `/v1/agent/tickets/${ticketId}`, headers: auth(agent.token), payload: { status: 'closed' } });
    const late = await inbound({ recipient: replyToOf(mail), text: 'One more thing' });
    expect(late.statusCode).toBe(409);
    expect(problem(late).code).toBe('ticket_closed');
    expect((await messages(ticketId, pageKey)).messages).toHaveLength(3);
  });

  it('refuses a forged or foreign reply address (404), no service key (401), a member token (401), and empty new text (400)', async () => {
    const { ticketId, key: pageKey, input } = await openTicket(t);
    const address = replyToOf(await smtp.last(t, input.email));
    const forged = address.replace(/\.([a-z2-7]{20})@/, (_m, token: string) => `.${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}@`);
    expect((await inbound({ recipient: forged, text: 'hi' })).statusCode).toBe(404);
    expect((await inbound({ recipient: address.replace('@verity.test', '@elsewhere.test'), text: 'hi' })).statusCode).toBe(404);
    expect((await inbound({ recipient: 'help@verity.test', text: 'hi' })).statusCode).toBe(404);
    expect((await inbound({ recipient: address, text: 'hi' }, 'vk_wrong')).statusCode).toBe(401);
    const member = await signUp(t);
    expect((await inbound({ recipient: address, text: 'hi' }, member.token)).statusCode).toBe(401);
    expect((await inbound({ recipient: address, text: '> only quoted\n> text' })).statusCode).toBe(400);
    expect((await inbound({ recipient: address, text: 'hi', extra: 1 })).statusCode).toBe(400);
    expect((await messages(ticketId, pageKey)).messages).toHaveLength(1);
    // Case folded by a mail system on the way is still the same address.
    expect((await inbound({ recipient: address.toUpperCase(), text: 'Upper case still reaches us.' })).statusCode).toBe(201);
  });
});

describe('stripping quoted history', () => {
  it.each([
    ['Gmail', 'Yes, please.\n\nOn Tue, Dec 1, 2026 at 4:40 PM Verity <no-reply@verity.test> wrote:\n> Hello', 'Yes, please.'],
    ['Outlook', 'Yes.\r\n\r\n________________________________\r\nFrom: Verity <no-reply@verity.test>\r\nSent: Tuesday\r\n', 'Yes.'],
    ['Outlook, original message', 'Sure\n-----Original Message-----\nFrom: x', 'Sure'],
    ['an Outlook header block', 'Fine.\n\nFrom: Verity Support\nSent: 1 December\nSubject: Re', 'Fine.'],
    ['our marker', 'Thanks\n-- Write your reply above this line --\nHello Ana', 'Thanks'],
    ['a signature', 'Done.\n-- \nAna Reyes\nManila', 'Done.'],
    ['inline quotes between lines', 'First\n> quoted\nSecond', 'First\nSecond'],
  ])('%s', (_name, text, expected) => {
    expect(stripQuoted(text)).toBe(expected);
  });
});
