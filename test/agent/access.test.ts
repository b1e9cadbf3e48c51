import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { allRoutes, concrete } from '../helpers/routes.js';
import { openTicket } from '../support/helpers.js';
import { openCase, staff } from './helpers.js';

let t: TestApp;
let agent: SignedUp;
let member: SignedUp;
let caseId: string;
let ticketId: string;
let resetId: string;

beforeAll(async () => {
  t = await createTestApp();
  ({ agent } = await staff(t));
  member = await signUp(t);
  caseId = await openCase(t, { kind: 'compromised', priority: 'urgent', accountId: member.id });
  ticketId = (await openTicket(t)).ticketId;
  const reset = await t.app.inject({ method: 'POST', url: '/v1/recovery/security-reset', payload: { login: member.username, fullName: 'Maria Santos', contactEmail: 'maria@contact.test', details: 'Lost my phone.' } });
  resetId = reset.json().requestId as string;
});
afterAll(() => t.close());

/** Fills a route's parameters with things that exist, so a refusal is about who asks, not what. */
function fill(path: string): string {
  const id = path.includes('/accounts/') ? member.id : path.includes('/tickets/') ? ticketId : path.includes('/security-resets/') ? resetId : caseId;
  return concrete(path, (name) => (name === 'id' ? id : name === 'accountId' ? member.id : name === 'role' ? 'agent' : 'x'));
}

/** A body each agent API route would take from an agent, so a refusal is about who asks. */
function apiBody(method: string, path: string): Record<string, unknown> {
  if (path.endsWith('/decision')) return { decision: 'deny', note: 'x' };
  if (path.startsWith('/v1/agent/tickets/')) return method === 'PATCH' ? { status: 'closed' } : { message: 'x' };
  if (path.endsWith('/assignee')) return { assigneeId: 'me' };
  if (path.endsWith('/notes')) return { note: 'x' };
  if (path.endsWith('/lock') || path.endsWith('/unlock')) return { reason: 'x' };
  if (method === 'PATCH') return { status: 'closed' };
  return {};
}

const agentRoutes = () => allRoutes(t.app).filter(([, path]) => path.startsWith('/v1/agent') || path === '/agent' || path.startsWith('/agent/'));

describe('who reaches the desk', () => {
  it('has the routes this test means to cover', () => {
    const paths = agentRoutes().map(([method, path]) => `${method} ${path}`);
    expect(paths).toEqual(expect.arrayContaining(['GET /v1/agent/queue', 'PUT /v1/agent/cases/:id/assignee', 'POST /v1/agent/accounts/:id/lock', 'GET /agent', 'POST /agent/accounts/:id/unlock']));
    expect(paths.length).toBeGreaterThanOrEqual(17);
  });

  it('refuses every agent route to a member (403) and to nobody signed in (401), whatever the body', async () => {
    for (const [method, path] of agentRoutes()) {
      const url = fill(path);
      const api = path.startsWith('/v1/');
      const body = api ? { payload: apiBody(method, path) } : { payload: '_csrf=x&reason=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
      const send = method === 'GET' ? {} : body;
      const asMember = await t.app.inject({ method: method as 'GET', url, ...send, headers: { ...(send as { headers?: object }).headers, ...(api ? auth(member.token) : { cookie: `verity_session=${member.token}` }) } });
      expect(asMember.statusCode, `${method} ${path} as a member`).toBe(403);
      const anonymous = await t.app.inject({ method: method as 'GET', url, ...send });
      // Signed out, a page post may meet the CSRF check (403) before the sign-in one.
      expect(api ? [401] : [401, 403, 303], `${method} ${path} signed out`).toContain(anonymous.statusCode);
      if (anonymous.statusCode === 303) expect(anonymous.headers.location).toMatch(/^\/login/);
    }
    // Nothing a member sent changed the case or the account.
    const rows = await t.db.selectFrom('support_cases').select(['status', 'assignee_id']).where('id', 'in', [caseId, ticketId]).execute();
    expect(rows).toEqual([{ status: 'open', assignee_id: null }, { status: 'open', assignee_id: null }]);
    expect(await t.db.selectFrom('case_notes').selectAll().execute()).toEqual([]);
    expect(await t.app.verity.accounts.get(member.id)).toMatchObject({ status: 'active' });
  });

  it('lets an agent reach every agent route', async () => {
    for (const [method, path] of agentRoutes().filter(([m]) => m === 'GET')) {
      const url = fill(path);
      const res = await t.app.inject({ method: 'GET', url, headers: path.startsWith('/v1/') ? auth(agent.token) : { cookie: `verity_session=${agent.token}` } });
      expect(res.statusCode, `${method} ${path}`).toBe(200);
    }
  });

  it('keeps every admin action from an agent', async () => {
    // Bodies an admin could send, so the refusal is the role's and not the body's.
    const bodies: Record<string, unknown> = {
      'POST /v1/admin/setup': { token: 'not-the-token' },
      'POST /v1/admin/staff': { login: agent.username, role: 'admin' },
      'POST /v1/admin/service-keys': { name: 'agent key' },
      'PUT /v1/admin/help/articles/:slug': { title: 'Taken over', summary: 'x', body: 'x' },
      'PUT /v1/admin/notices/feed': { global: { message: 'Taken over', icon: 'info', start: '', end: '' }, responsive: [] },
      'POST /v1/admin/phone/voip-ranges': { prefix: '+4470' },
    };
    const admin = allRoutes(t.app).filter(([, path]) => path.startsWith('/v1/admin/'));
    expect(admin.length).toBeGreaterThanOrEqual(10);
    for (const [method, path] of admin) {
      const key = `${method} ${path}`;
      const res = await t.app.inject({ method: method as 'GET', url: fill(path), headers: auth(agent.token), ...(bodies[key] ? { payload: bodies[key] as object } : {}) });
      // The first-admin setup is open to any member until an admin exists; then it is 410 for all.
      if (path === '/v1/admin/setup') expect(res.statusCode, key).toBe(410);
      else expect(res.statusCode, key).toBe(403);
    }
    expect(await t.app.verity.admin.staffRoles(agent.id)).toEqual(['agent']);
  });
});
