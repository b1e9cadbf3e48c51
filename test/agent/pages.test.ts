import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { Visitor, textOf } from '../pages/form.js';
import { verifyNumber } from '../phone/helpers.js';
import { openCase, staff } from './helpers.js';

let t: TestApp;
let agent: SignedUp;
let member: SignedUp;
let desk: Visitor;
const ids: Record<string, string> = {};

function visitorFor(who: SignedUp): Visitor {
  const visitor = new Visitor(t);
  visitor.cookies.set('verity_session', who.token);
  return visitor;
}

beforeAll(async () => {
  t = await createTestApp();
  ({ agent } = await staff(t));
  member = await signUp(t);
  ids.ticket = await openCase(t, { kind: 'ticket', priority: 'normal', accountId: member.id });
  ids.reset = await openCase(t, { kind: 'security_reset', priority: 'high', accountId: member.id });
  ids.compromised = await openCase(t, { kind: 'compromised', priority: 'urgent', accountId: member.id, source: 'anonymous_report' });
  desk = visitorFor(agent);
});
afterAll(() => t.close());

describe('/agent', () => {
  it('lists the queue with a link to each case page by kind, urgent first', async () => {
    const res = await desk.get('/agent');
    expect(res.statusCode).toBe(200);
    const links = [...res.body.matchAll(/<tr data-testid="queue-row" data-kind="(\w+)" data-id="[^"]+">\s*<td><a href="([^"]+)">/g)].map((m) => [m[1], m[2]]);
    expect(links).toEqual([
      ['compromised', `/agent/cases/${ids.compromised}`],
      ['security_reset', `/agent/security-resets/${ids.reset}`],
      ['ticket', `/agent/tickets/${ids.ticket}`],
    ]);
    expect(res.body).toContain('<a href="/agent" aria-current="page">Desk</a>');
  });

  it('filters with a GET form; a bad filter is said beside its field', async () => {
    const tickets = await desk.get('/agent?kind=ticket&status=&priority=&assignee=');
    expect([...tickets.body.matchAll(/data-testid="queue-row"/g)]).toHaveLength(1);
    expect(tickets.body).toMatch(/<option value="ticket" selected>/);
    const bad = await desk.get('/agent?kind=bogus');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/id="q-kind-error"/);
  });

  it('assigns, notes and changes the status of a case by forms, each time back to the case', async () => {
    const url = `/agent/cases/${ids.compromised}`;
    await desk.get(url);
    const assigned = await desk.post(`${url}/assignee`, { assigneeId: 'me' });
    expect(assigned.statusCode).toBe(303);
    expect(assigned.headers.location).toBe(`${url}?done=assigned`);
    const page = await desk.get(assigned.headers.location as string);
    expect(page.body).toContain(`data-testid="case-assignee">${agent.username}<`);
    expect(page.body).toContain('Assignment saved.');

    const blank = await desk.post(`${url}/notes`, { note: '' });
    expect(blank.statusCode).toBe(400);
    expect(blank.body).toMatch(/id="f-note-error"/);
    const noted = await desk.post(`${url}/notes`, { note: 'Checked the sign-ins: two from a new country.' });
    expect(noted.statusCode).toBe(303);
    expect((await desk.get(noted.headers.location as string)).body).toContain('Checked the sign-ins: two from a new country.');

    const moved = await desk.post(`${url}/status`, { status: 'pending' });
    expect(moved.statusCode).toBe(303);
    expect((await desk.get(moved.headers.location as string)).body).toContain('data-testid="case-status">Pending<');
  });

  it('locks and unlocks from the account page, the reason required', async () => {
    const url = `/agent/accounts/${member.id}`;
    const page = await desk.get(url);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="compromise-reports"');
    const blank = await desk.post(`${url}/lock`, { reason: '' });
    expect(blank.statusCode).toBe(400);
    expect(blank.body).toMatch(/id="f-reason-error"/);
    const locked = await desk.post(`${url}/lock`, { reason: 'Sign-ins from two countries at once' });
    expect(locked.statusCode).toBe(303);
    const after = await desk.get(locked.headers.location as string);
    expect(after.body).toContain('data-testid="account-status">locked<');
    const unlocked = await desk.post(`${url}/unlock`, { reason: 'Member confirmed by phone' });
    expect(unlocked.statusCode).toBe(303);
    expect((await desk.get(unlocked.headers.location as string)).body).toContain('data-testid="account-status">active<');
  });
});

describe("the member's recent security events", () => {
  it('shows their sign-ins, changes and requests, never the agents\' notes', async () => {
    const own = await signUp(t);
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { login: own.username, password: own.password },
      headers: { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15', 'cf-ipcountry': 'DE' },
      remoteAddress: '198.51.100.23',
    });
    const me = { ...own, token: signIn.json().session.token as string };
    await verifyNumber(t, me);
    const report = await t.app.inject({ method: 'POST', url: '/v1/recovery/compromised', payload: { login: own.username, contactEmail: 'friend@example.com', details: 'Odd e-mails' }, remoteAddress: randomIp() });
    expect(report.statusCode).toBe(202);
    const caseId = report.json().ticketId as string;
    await t.app.inject({ method: 'POST', url: `/v1/agent/cases/${caseId}/notes`, headers: auth(agent.token), payload: { note: 'INTERNAL: member sounded unsure' } });

    const page = await visitorFor(me).get('/account/security');
    expect(page.statusCode).toBe(200);
    const signIns = textOf(page.body, 'events-title');
    expect(signIns).toBe('Recent security events');
    const list = /data-testid="my-sign-ins">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '';
    expect(list).toContain('Safari on macOS');
    expect(list).toContain('198.51.100.23 (DE)');
    const changes = /data-testid="my-changes">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '';
    expect(changes).toContain('Phone number added');
    expect(changes).toContain('Account created');
    const requests = /data-testid="my-requests">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '';
    expect(requests).toContain('Compromised account: Open');
    expect(page.body).not.toContain('INTERNAL');
  });
});
