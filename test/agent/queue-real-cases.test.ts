import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';
import { openTicket } from '../support/helpers.js';
import { staff } from './helpers.js';

/** The queue over cases the tickets, security-reset and recovery domains open themselves. */
let t: TestApp;
let agent: SignedUp;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  ({ agent } = await staff(t));
  const member = await signUp(t);
  ids.ticket = (await openTicket(t)).ticketId;
  t.clock.advanceSeconds(60);
  const reset = await t.app.inject({ method: 'POST', url: '/v1/recovery/security-reset', payload: { login: member.username, fullName: 'Maria Santos', contactEmail: 'maria@contact.test', details: 'Lost my phone.' }, remoteAddress: randomIp() });
  expect(reset.statusCode, reset.body).toBe(202);
  ids.reset = reset.json().requestId;
  t.clock.advanceSeconds(60);
  const other = await signUp(t);
  expect((await t.app.inject({ method: 'POST', url: '/v1/me/compromised', headers: auth(other.token), payload: { details: 'Someone changed my e-mail' } })).statusCode).toBe(202);
  const [compromised] = await t.db.selectFrom('support_cases').select('id').where('kind', '=', 'compromised').execute();
  ids.compromised = compromised!.id;
});
afterAll(() => t.close());

describe('the queue with real tickets, resets and compromise reports', () => {
  it('holds all three, urgent first, and each row opens its own page', async () => {
    const queue = (await t.app.inject({ method: 'GET', url: '/v1/agent/queue', headers: auth(agent.token) })).json() as Array<{ id: string; kind: string }>;
    expect(queue.map((c) => [c.kind, c.id])).toEqual([
      ['compromised', ids.compromised],
      ['ticket', ids.ticket],
      ['security_reset', ids.reset],
    ]);
    const desk = new Visitor(t);
    desk.cookies.set('verity_session', agent.token);
    const page = await desk.get('/agent');
    const links = [...page.body.matchAll(/data-testid="queue-row"[^>]*>\s*<td><a href="([^"]+)"/g)].map((m) => m[1]!);
    expect(links).toEqual([`/agent/cases/${ids.compromised}`, `/agent/tickets/${ids.ticket}`, `/agent/security-resets/${ids.reset}`]);
    for (const link of links) expect((await desk.get(link)).statusCode, link).toBe(200);
    // A ticket's and a reset's own pages lead to the case's assignment and internal notes.
    for (const link of links.slice(1)) {
      const id = link.split('/').pop()!;
      const body = (await desk.get(link)).body;
      expect(body, link).toContain(`href="/agent/cases/${id}"`);
      expect((await desk.get(`/agent/cases/${id}`)).statusCode).toBe(200);
    }
  });

  it('assigns and notes a ticket and a reset like any case, and leaves their status to their own pages', async () => {
    for (const id of [ids.ticket!, ids.reset!]) {
      const assigned = await t.app.inject({ method: 'PUT', url: `/v1/agent/cases/${id}/assignee`, headers: auth(agent.token), payload: { assigneeId: 'me' } });
      expect(assigned.statusCode).toBe(200);
      const noted = await t.app.inject({ method: 'POST', url: `/v1/agent/cases/${id}/notes`, headers: auth(agent.token), payload: { note: 'Taking this one.' } });
      expect(noted.statusCode).toBe(201);
      const patched = await t.app.inject({ method: 'PATCH', url: `/v1/agent/cases/${id}`, headers: auth(agent.token), payload: { status: 'closed' } });
      expect(patched.json().code).toBe('wrong_case_kind');
    }
    const mine = (await t.app.inject({ method: 'GET', url: '/v1/agent/queue?assignee=me', headers: auth(agent.token) })).json() as Array<{ id: string }>;
    expect(mine.map((c) => c.id)).toEqual([ids.ticket, ids.reset]);
    const tickets = (await t.app.inject({ method: 'GET', url: '/v1/agent/queue?kind=ticket', headers: auth(agent.token) })).json() as Array<{ id: string }>;
    expect(tickets.map((c) => c.id)).toEqual([ids.ticket]);
  });
});
