import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, type SignedUp, type TestApp } from '../helpers/app.js';
import { listen } from '../helpers/browser.js';
import { makeAgent, openTicket } from './helpers.js';

let t: TestApp;
let base: string;
let agent: SignedUp;
let serviceKey: string;

beforeAll(async () => {
  t = await createTestApp();
  const staff = await makeAgent(t);
  agent = staff.agent;
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/service-keys', headers: auth(staff.admin.token), payload: { name: 'inbound mail' } });
  serviceKey = res.json().key;
  base = await listen(t);
});
afterAll(() => t.close());

const post = (path: string, token: string | null, body: unknown, method = 'POST') =>
  fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', ...(token ? auth(token) : {}) }, body: JSON.stringify(body) });

async function messageCount(caseId: string): Promise<number> {
  const row = await t.db.selectFrom('ticket_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('case_id', '=', caseId).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('races, over a listening server', () => {
  it('adds one message when the mail provider delivers the same e-mail several times at once', async () => {
    const { ticketId } = await openTicket(t);
    const recipient = t.app.verity.tickets.replyAddress(ticketId);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => post('/v1/support/inbound-email', serviceKey, { recipient, text: 'Sent once, delivered six times.', messageId: '<dup-1@mail.example.org>' })),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 201]);
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ messageId: string }>));
    expect(new Set(bodies.map((b) => b.messageId)).size).toBe(1);
    expect(await messageCount(ticketId)).toBe(2);
  });

  it('never leaves a reply on a ticket after it was closed: replies racing a close land before it or are refused', async () => {
    const { ticketId, key } = await openTicket(t);
    const replies = Array.from({ length: 5 }, (_, i) => post(`/v1/support/tickets/${ticketId}/messages?key=${encodeURIComponent(key)}`, null, { message: `reply ${i}` }));
    const close = post(`/v1/agent/tickets/${ticketId}`, agent.token, { status: 'closed' }, 'PATCH');
    const [closed, ...answers] = await Promise.all([close, ...replies]);
    expect(closed!.status).toBe(200);
    for (const a of answers) expect([201, 409]).toContain(a.status);
    const accepted = answers.filter((a) => a.status === 201).length;
    expect(await messageCount(ticketId)).toBe(1 + accepted);
    const row = await t.db.selectFrom('support_cases').select('status').where('id', '=', ticketId).executeTakeFirstOrThrow();
    // A reply committed after the close would have set the ticket open again.
    expect(row.status).toBe('closed');
  });
});
