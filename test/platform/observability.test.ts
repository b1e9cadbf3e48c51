import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, linkToken, problem, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';

let t: TestApp;
let logs = '';
beforeAll(async () => {
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  t = await createTestApp({ logger: pino({ level: 'info' }, capture) });
});
afterAll(async () => {
  await t.close();
});

function logLines(): Array<Record<string, unknown>> {
  return logs.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('logs', () => {
  it('never contain passwords, session tokens or verification tokens', async () => {
    logs = '';
    const user = { ...uniqueUser(), password: 'unmistakable-Passphrase-4821 zebra' };
    const signup = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: user, remoteAddress: randomIp() });
    expect(signup.statusCode).toBe(201);
    const signupToken: string = signup.json().session.token;

    // The verification link, used both ways: the page (token in the query) and the API.
    const link = linkToken((await lastMessage(t, user.email))!.body, 'verify-email?token');
    const page = await t.app.inject({ method: 'GET', url: `/verify-email?token=${link}` });
    expect(page.statusCode).toBe(200);
    await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token: link } });

    const signin = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: user.username, password: user.password }, remoteAddress: randomIp() });
    expect(signin.statusCode).toBe(200);
    const sessionToken: string = signin.json().session.token;
    await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(sessionToken) });
    await t.app.inject({ method: 'GET', url: '/account', headers: { cookie: `verity_session=${sessionToken}` } });
    await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: user.email, password: 'wrong-Passphrase-4821 zebra' }, remoteAddress: randomIp() });

    // The capture works: the requests above were logged, with their ids.
    const lines = logLines();
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.some((l) => typeof l.reqId === 'string' && (l.req as { url?: string } | undefined)?.url?.startsWith('/verify-email'))).toBe(true);

    for (const secret of [user.password, 'wrong-Passphrase-4821 zebra', signupToken, sessionToken, link]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('log a 5xx with its details server-side, under the request id the client saw', async () => {
    let brokenLogs = '';
    const broken = await createTestApp({
      logger: pino({ level: 'info' }, new Writable({ write: (c, _e, done) => ((brokenLogs += c.toString()), done()) })),
    });
    const member = await signUp(broken);
    await broken.database.close();
    const res = await broken.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(res.statusCode).toBe(500);
    const id = res.headers['x-request-id'] as string;
    const failure = brokenLogs.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.reqId === id && l.level >= 50);
    expect(failure?.err).toBeDefined();
    expect(brokenLogs).not.toContain(member.token);
    await broken.app.verity.outbox.stop();
    await broken.app.close();
  });
});

describe('request ids', () => {
  it('answers every request with a distinct x-request-id, the id its log lines carry', async () => {
    logs = '';
    const responses = await Promise.all([
      t.app.inject({ method: 'GET', url: '/healthz' }),
      t.app.inject({ method: 'GET', url: '/v1/me' }),
      t.app.inject({ method: 'GET', url: '/v1/nowhere' }),
      t.app.inject({ method: 'GET', url: '/login' }),
    ]);
    const ids = responses.map((r) => r.headers['x-request-id'] as string);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const logged = new Set(logLines().map((l) => l.reqId));
    for (const id of ids) expect(logged.has(id)).toBe(true);
  });

  it('does not take a request id from the client', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'forged\nid' } });
    expect(res.headers['x-request-id']).not.toBe('forged\nid');
  });
});

describe('health, readiness and metrics', () => {
  it('answers /healthz and /readyz with 200 while the database is there', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  });

  it('answers /readyz with a 503 problem when the database is gone, while /healthz stays up', async () => {
    const gone = await createTestApp();
    await gone.database.close();
    const ready = await gone.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['content-type']).toContain('application/problem+json');
    expect(problem(ready)).toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(ready.body).not.toMatch(/pglite|closed|Error/);
    expect((await gone.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await gone.app.verity.outbox.stop();
    await gone.app.close();
  });

  it('exposes Prometheus metrics: request durations, outbox backlog and sign-ins by outcome', async () => {
    const member = await signUp(t);
    const value = (text: string, outcome: string) => Number(new RegExp(`^verity_signin_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const before = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (let i = 0; i < 2; i++) await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: randomIp() });
    for (let i = 0; i < 3; i++) await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: `wrong one ${i} here` }, remoteAddress: randomIp() });

    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(value(text, 'success') - value(before, 'success')).toBe(2);
    expect(value(text, 'failure') - value(before, 'failure')).toBe(3);
    expect(text).toMatch(/^# TYPE verity_http_request_duration_seconds histogram$/m);
    expect(text).toMatch(/^verity_http_request_duration_seconds_count\{method="POST",route="\/v1\/sessions",status="200"\} \d+$/m);
    expect(text).toMatch(/^verity_outbox_backlog \d+$/m);
    // Unmatched paths share one label, so scanning cannot blow up the series count.
    await t.app.inject({ method: 'GET', url: '/v1/random-1234' });
    const after = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(after).not.toContain('random-1234');
  });

  it('reports the outbox backlog as it is', async () => {
    await t.app.verity.outbox.drain();
    const quiet = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(quiet).toMatch(/^verity_outbox_backlog 0$/m);
    await t.app.verity.outbox.stop();
    await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: uniqueUser(), remoteAddress: randomIp() });
    const busy = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(busy).toMatch(/^verity_outbox_backlog [1-9]\d*$/m);
  });
});
