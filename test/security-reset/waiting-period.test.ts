import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/platform/db/database.js';
import { auth, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { openTestDatabase } from '../helpers/database.js';
import { verifyNumber } from '../phone/helpers.js';
import { addAuthenticator, overview } from '../twostep/helpers.js';
import { decide, HOUR, MailCatcher, requestReset, resetApp, resetBody, settle, staff, status, statusLinkIn } from './support.js';

let database: Database;
let mail: MailCatcher;
let a: TestApp;
let b: TestApp;
let agent: SignedUp;
const apps: TestApp[] = [];

async function open(): Promise<TestApp> {
  const t = await resetApp(mail, { database });
  apps.push(t);
  return t;
}

beforeAll(async () => {
  mail = new MailCatcher();
  await mail.start();
  database = await openTestDatabase();
  // Two processes over one database.
  a = await open();
  b = await open();
  ({ agent } = await staff(a));
});
afterAll(async () => {
  for (const t of apps) await t.close().catch(() => undefined);
  await database.close();
  await mail.close();
});

function setClocks(at: Date): void {
  for (const t of apps) t.clock.set(at);
}

async function applied(t: TestApp, requestId: string) {
  const rows = await t.db.selectFrom('audit_events').select('details').where('event', '=', 'security_reset.applied').execute();
  return rows.filter((r) => (r.details as { caseId?: string }).caseId === requestId).length;
}

describe('the answer does not tell whether the login exists', () => {
  it('answers a known and an unknown login alike: status, body, headers, cookies and the e-mail', async () => {
    const known = await signUp(a);
    const answers = [];
    for (const login of [known.username, `nobody-${Date.now()}`]) {
      const res = await requestReset(a, resetBody(login, { contactEmail: `same-${login}@contact.test` }));
      answers.push(res);
    }
    const [k, u] = answers as [(typeof answers)[0], (typeof answers)[0]];
    expect([k.statusCode, u.statusCode]).toEqual([202, 202]);
    const shape = (body: string) => body.replace(/[0-9a-f-]{36}/g, 'ID');
    expect(shape(k.body)).toBe(shape(u.body));
    expect(k.json().status).toBe('pending_review');
    const headers = (h: Record<string, unknown>) => Object.keys(h).filter((n) => n !== 'date' && n !== 'x-request-id').sort().map((n) => [n, n === 'content-length' ? h[n] : typeof h[n]]);
    expect(headers(k.headers)).toEqual(headers(u.headers));
    expect(k.headers['set-cookie']).toBeUndefined();
    expect(u.headers['set-cookie']).toBeUndefined();
    await settle(a);
    const mails = [known.username, 'nobody'].map((l) => mail.received.filter((m) => (m.text ?? '').includes(`(login "${l}`)).at(-1)!);
    expect(mails[0]!.subject).toBe(mails[1]!.subject);
    expect(mails[0]!.text!.replace(/[0-9a-f-]{36}\?key=[\w-]+/, 'LINK').replace(/"[^"]+"/, 'LOGIN')).toBe(mails[1]!.text!.replace(/[0-9a-f-]{36}\?key=[\w-]+/, 'LINK').replace(/"[^"]+"/, 'LOGIN'));
  });

  it('is rate-limited per IP', async () => {
    const ip = randomIp();
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await requestReset(a, resetBody(`someone${i}-${Date.now()}`), ip)).statusCode);
    expect(codes).toEqual([202, 202, 202, 202, 202, 429]);
  });

  it('answers 404 alike for a wrong key and an unknown id', async () => {
    const body = resetBody(`x${Date.now()}`);
    const res = await requestReset(a, body);
    await settle(a);
    const link = statusLinkIn(mail.last(body.contactEmail));
    expect((await status(a, link)).statusCode).toBe(200);
    const wrongKey = await status(a, { requestId: res.json().requestId, key: 'A'.repeat(43) });
    const wrongId = await status(a, { requestId: '00000000-0000-4000-8000-000000000000', key: link.key });
    expect([wrongKey.statusCode, wrongId.statusCode]).toEqual([404, 404]);
    expect(wrongKey.body).toBe(wrongId.body);
  });
});

describe('the waiting period', () => {
  it('holds for 72 hours, survives a restart, and applies exactly once with two processes draining', async () => {
    const who = await signUp(a, { fullName: 'Maria Santos' });
    await verifyNumber(a, who);
    await addAuthenticator(a, who);
    const body = resetBody(who.username);
    const res = await requestReset(a, body);
    const requestId = res.json().requestId as string;
    await settle(a);
    const link = statusLinkIn(mail.last(body.contactEmail));
    const approved = await decide(a, agent, requestId, 'approve');
    expect(approved.statusCode, approved.body).toBe(200);
    const effectiveAt = new Date(approved.json().effectiveAt);
    expect(effectiveAt.getTime() - a.clock.now().getTime()).toBe(72 * HOUR * 1000);

    // A minute before: nothing, in either process.
    setClocks(new Date(effectiveAt.getTime() - 60_000));
    await Promise.all([settle(a), settle(b)]);
    expect(await applied(a, requestId)).toBe(0);
    expect((await overview(a, who)).enabled).toBe(true);
    expect((await a.app.inject({ method: 'GET', url: '/v1/me', headers: auth(who.token) })).statusCode).toBe(200);
    expect((await status(a, link)).json()).toMatchObject({ status: 'approved', effectiveAt: effectiveAt.toISOString() });

    // Process a restarts (a new app over the same database, the job still waiting in it).
    await a.close();
    const c = await open();
    setClocks(new Date(effectiveAt.getTime() + 1000));
    await Promise.all([settle(b), settle(c), settle(b), settle(c)]);
    expect(await applied(c, requestId)).toBe(1);
    expect(await c.app.verity.jobs.pending('security_reset.apply')).toBe(0);

    expect((await overview(c, who).catch(() => null))).toBeNull();
    expect((await c.app.inject({ method: 'GET', url: '/v1/me', headers: auth(who.token) })).statusCode).toBe(401);
    const methods = await c.db.selectFrom('two_step_methods').select('type').where('account_id', '=', who.id).execute();
    expect(methods).toEqual([]);
    expect((await status(c, link)).json().status).toBe('completed');

    // One set-a-password link to the requester, one notice to the account, through SMTP.
    const ready = mail.to(body.contactEmail).filter((m) => m.subject === 'Your security information was reset: choose a new password');
    expect(ready).toHaveLength(1);
    expect(mail.to(who.email).filter((m) => m.subject === "Your account's security information was reset")).toHaveLength(1);
    const token = /\/recover\/password\/([A-Za-z0-9_-]+)\?then=two-step/.exec(ready[0]!.text ?? '')![1]!;

    // The link sets a password without a two-step check (the methods are gone), once.
    expect((await c.app.inject({ method: 'GET', url: `/v1/recovery/password/${token}` })).json()).toEqual({ twoStepRequired: false });
    const set = await c.app.inject({ method: 'POST', url: `/v1/recovery/password/${token}`, payload: { newPassword: 'a brand new lengthy passphrase 42' } });
    expect(set.statusCode, set.body).toBe(200);
    expect((await c.app.inject({ method: 'POST', url: `/v1/recovery/password/${token}`, payload: { newPassword: 'another brand new passphrase 43' } })).statusCode).toBe(410);
    const signIn = await c.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: who.username, password: 'a brand new lengthy passphrase 42' }, remoteAddress: randomIp() });
    expect(signIn.json()).toMatchObject({ status: 'authenticated' });
    const fresh = { ...who, token: signIn.json().session.token as string };
    expect((await overview(c, fresh)).recommendation?.code).toBe('turn_on');
  });
});
