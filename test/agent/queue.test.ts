import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { auditRows, openCase, staff } from './helpers.js';

let t: TestApp;
let agent: SignedUp;
let admin: SignedUp;
let member: SignedUp;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  ({ agent, admin } = await staff(t));
  member = await signUp(t);
  // Opened in this order, a minute apart: the queue must still put urgent first, then oldest.
  const plan = [
    ['oldNormal', 'ticket', 'normal'],
    ['oldHigh', 'security_reset', 'high'],
    ['newUrgent', 'compromised', 'urgent'],
    ['oldestUrgentLater', 'compromised', 'urgent'],
    ['newNormal', 'ticket', 'normal'],
  ] as const;
  t.clock.advance(-3600 * 1000);
  for (const [name, kind, priority] of plan) {
    t.clock.advance(60_000);
    ids[name] = await openCase(t, { kind, priority, accountId: member.id });
  }
});
afterAll(() => t.close());

const queue = (token: string, query = '') => t.app.inject({ method: 'GET', url: `/v1/agent/queue${query}`, headers: auth(token) });

describe('the queue', () => {
  it('lists every kind, urgent first, then high, then normal, oldest first within each', async () => {
    const res = await queue(agent.token);
    expect(res.statusCode).toBe(200);
    const order = (res.json() as Array<{ id: string }>).map((c) => c.id);
    expect(order).toEqual([ids.newUrgent, ids.oldestUrgentLater, ids.oldHigh, ids.oldNormal, ids.newNormal]);
    const first = res.json()[0];
    expect(first).toEqual({ id: ids.newUrgent, kind: 'compromised', priority: 'urgent', status: 'open', createdAt: expect.any(String), account: { id: member.id, username: member.username } });
  });

  it('filters by kind, priority and status; admins see it too', async () => {
    const tickets = (await queue(admin.token, '?kind=ticket')).json() as Array<{ id: string; kind: string }>;
    expect(tickets.map((c) => c.id)).toEqual([ids.oldNormal, ids.newNormal]);
    const high = (await queue(agent.token, '?priority=high')).json() as Array<{ id: string }>;
    expect(high.map((c) => c.id)).toEqual([ids.oldHigh]);
    expect((await queue(agent.token, '?status=solved')).json()).toEqual([]);
    expect((await queue(agent.token, '?kind=nonsense')).statusCode).toBe(400);
  });

  it('assigns to me, to another agent and to nobody, and filters by assignee', async () => {
    const put = (token: string, id: string, assigneeId: string) => t.app.inject({ method: 'PUT', url: `/v1/agent/cases/${id}/assignee`, headers: auth(token), payload: { assigneeId } });
    const mine = await put(agent.token, ids.oldHigh!, 'me');
    expect(mine.statusCode).toBe(200);
    expect(mine.json().assignee).toEqual({ id: agent.id, username: agent.username });
    expect((await queue(agent.token, '?assignee=me')).json().map((c: { id: string }) => c.id)).toEqual([ids.oldHigh]);

    expect((await put(agent.token, ids.oldNormal!, admin.id)).json().assignee.id).toBe(admin.id);
    expect((await queue(agent.token, `?assignee=${admin.id}`)).json().map((c: { id: string }) => c.id)).toEqual([ids.oldNormal]);

    const notStaff = await put(agent.token, ids.oldNormal!, member.id);
    expect(notStaff.statusCode).toBe(400);
    expect(notStaff.json().errors[0].path).toBe('/assigneeId');

    expect((await put(agent.token, ids.oldNormal!, 'none')).json().assignee).toBeUndefined();
    const nobody = (await queue(agent.token, '?assignee=none')).json().map((c: { id: string }) => c.id);
    expect(nobody).not.toContain(ids.oldHigh);
    expect(nobody).toContain(ids.oldNormal);

    const audited = await auditRows(t, 'support.case_assigned');
    expect(audited.map((a) => a.actor_id)).toEqual([agent.id, agent.id]);
    expect((await auditRows(t, 'support.case_unassigned'))[0]!.actor_id).toBe(agent.id);
  });

  it('keeps internal notes, audited without their words', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/v1/agent/cases/${ids.newUrgent}/notes`, headers: auth(agent.token), payload: { note: 'Called the member; waiting for ID.' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ note: 'Called the member; waiting for ID.', author: { id: agent.id, username: agent.username } });
    const shown = await t.app.inject({ method: 'GET', url: `/v1/agent/cases/${ids.newUrgent}`, headers: auth(agent.token) });
    expect(shown.json().notes.map((n: { note: string }) => n.note)).toEqual(['Called the member; waiting for ID.']);
    const [row] = await auditRows(t, 'support.case_note_added');
    expect(row!.actor_id).toBe(agent.id);
    expect(JSON.stringify(row!.details)).not.toContain('waiting for ID');
    const blank = await t.app.inject({ method: 'POST', url: `/v1/agent/cases/${ids.newUrgent}/notes`, headers: auth(agent.token), payload: { note: '   ' } });
    expect(blank.statusCode).toBe(400);
  });

  it('moves a compromise case along the status table, and refuses tickets and impossible moves', async () => {
    const patch = (id: string, status: string) => t.app.inject({ method: 'PATCH', url: `/v1/agent/cases/${id}`, headers: auth(agent.token), payload: { status } });
    expect((await patch(ids.newUrgent!, 'pending')).json().status).toBe('pending');
    expect((await patch(ids.newUrgent!, 'closed')).json().status).toBe('closed');
    const refused = await patch(ids.newUrgent!, 'solved');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('status_change_refused');
    expect((await patch(ids.newUrgent!, 'open')).json().status).toBe('open');
    const ticket = await patch(ids.oldNormal!, 'solved');
    expect(ticket.statusCode).toBe(409);
    expect(ticket.json().code).toBe('wrong_case_kind');
    const moves = await auditRows(t, 'support.case_status_changed');
    expect(moves.map((m) => [m.actor_id, (m.details as { to: string }).to])).toEqual([[agent.id, 'pending'], [agent.id, 'closed'], [agent.id, 'open']]);
  });

  it('answers 404 for an unknown or malformed case id', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/agent/cases/00000000-0000-4000-8000-000000000000', headers: auth(agent.token) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/v1/agent/cases/nope', headers: auth(agent.token) })).statusCode).toBe(404);
  });
});
