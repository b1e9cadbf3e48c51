import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, signUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const UA = 'AuditTest/2.0 (+https://example.com)';

function send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, options: { token?: string; payload?: object; ip: string }) {
  return t.app.inject({ method, url, payload: options.payload, remoteAddress: options.ip, headers: { 'user-agent': UA, ...(options.token ? auth(options.token) : {}) } });
}

async function eventsOf(accountId: string) {
  return t.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
}

describe('audit_events is append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    await signUp(t);
    const before = await t.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    expect(before.length).toBeGreaterThan(0);
    await expect(sql`UPDATE audit_events SET event = 'tampered'`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_events`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_events`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(t.db.deleteFrom('audit_events').where('id', '=', before[0]!.id).execute()).rejects.toThrow(/append-only/);
    await expect(t.db.updateTable('audit_events').set({ ip: '6.6.6.6' }).where('id', '=', before[0]!.id).execute()).rejects.toThrow(/append-only/);
    expect(await t.db.selectFrom('audit_events').selectAll().orderBy('id').execute()).toEqual(before);
  });

  it('still accepts new rows after a refused change', async () => {
    const before = await countRows(t.db, 'audit_events');
    await signUp(t);
    expect(await countRows(t.db, 'audit_events')).toBeGreaterThan(before);
  });
});

describe('what is recorded', () => {
  it('records each security event with account, IP, user agent and time', async () => {
    const ip = '10.20.30.40';
    const signup = await send('POST', '/v1/accounts', { ip, payload: { email: 'audit.person@example.com', username: 'audit-person', password: 'correct horse battery staple', country: 'PH', roles: ['freelancer'] } });
    expect(signup.statusCode).toBe(201);
    const id: string = signup.json().account.id;
    const first: string = signup.json().session.token;
    // One second between steps, so each event's time is known and the order is certain.
    const step = () => t.clock.advanceSeconds(1);
    const start = t.clock.now().getTime();

    step();
    expect((await send('POST', '/v1/sessions', { ip, payload: { login: 'audit-person', password: 'not my password, no' } })).statusCode).toBe(401);
    step();
    expect((await send('POST', '/v1/sessions', { ip, payload: { login: 'audit-person', password: 'correct horse battery staple' } })).statusCode).toBe(200);
    const sessions = (await send('GET', '/v1/sessions', { ip, token: first })).json() as Array<{ id: string; current: boolean }>;
    const other = sessions.find((s) => !s.current)!;
    step();
    expect((await send('DELETE', `/v1/sessions/${other.id}`, { ip, token: first })).statusCode).toBe(204);
    step();
    expect((await send('PATCH', '/v1/me', { ip, token: first, payload: { roles: ['client'] } })).statusCode).toBe(200);
    step();
    expect((await send('POST', '/v1/me/close', { ip, token: first, payload: { password: 'correct horse battery staple' } })).statusCode).toBe(200);

    const events = await eventsOf(id);
    expect(events.map((e) => e.event)).toEqual([
      'account.created',
      'signin.failed',
      // No device cookie was sent back, so this sign-in is from a browser the account has not used.
      'signin.new_browser',
      'signin.succeeded',
      'session.revoked',
      'account.roles_changed',
      'account.closed',
    ]);
    events.forEach((e, i) => {
      expect(e.ip).toBe(ip);
      expect(e.user_agent).toBe(UA);
      expect(e.account_id).toBe(id);
      // The new-browser notice is written with the session it reports, in the same second.
      expect(e.created_at.getTime()).toBe(start + [0, 1, 2, 2, 3, 4, 5][i]! * 1000);
    });
    expect(events[1]!.details).toEqual({ reason: 'wrong_password' });
    expect(events[4]!.details).toEqual({ sessionId: other.id });
    expect(events[5]!.details).toEqual({ from: ['freelancer'], to: ['client'] });
  });

  it('records a failed sign-in for an unknown login without an account, but with the address', async () => {
    const before = await countRows(t.db, 'audit_events');
    await send('POST', '/v1/sessions', { ip: '10.99.0.5', payload: { login: 'who-is-this', password: 'some password here' } });
    const rows = await t.db.selectFrom('audit_events').selectAll().where('event', '=', 'signin.failed').where('ip', '=', '10.99.0.5').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ account_id: null, user_agent: UA, details: { reason: 'unknown_login' } });
    expect(await countRows(t.db, 'audit_events')).toBe(before + 1);
  });

  it('never records a password or token in the details', async () => {
    const member = await signUp(t);
    await send('POST', '/v1/sessions', { ip: '10.1.1.1', payload: { login: member.username, password: 'typo in my password' } });
    const all = JSON.stringify(await t.db.selectFrom('audit_events').selectAll().execute());
    expect(all).not.toContain(member.password);
    expect(all).not.toContain('typo in my password');
    expect(all).not.toContain(member.token);
  });
});
