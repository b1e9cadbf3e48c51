import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/process.js';
import { OwnPostgres, PASSWORD, member, post, waitFor } from './support.js';

/**
 * PostgreSQL stopped for a few seconds under a flow of requests, on a real server process
 * pointed at a PostgreSQL cluster this file starts itself (never the machine's shared one).
 * It runs on every suite run, PGlite or PostgreSQL: it brings its own database.
 */
let pg: OwnPostgres;
let server: ServerProcess;
let token = '';

beforeAll(async () => {
  pg = await OwnPostgres.create();
  server = await startServer({ DATA_DIR: mkdtempSync(join(tmpdir(), 'verity-pgdown-')), DATABASE_URL: pg.url });
  const res = await post(server.base, '/v1/accounts', member('pg-down'));
  expect(res.status).toBe(201);
  token = ((await res.json()) as { session: { token: string } }).session.token;
}, 180_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  pg?.destroy();
});

interface Answer {
  what: string;
  status: number;
  ms: number;
  contentType: string;
  retryAfter: string | null;
  code: unknown;
}

async function timed(what: string, request: () => Promise<Response>): Promise<Answer> {
  const started = Date.now();
  // No answer at all (a crashed process, a dropped connection) is recorded as status 0.
  const res = await request().catch(() => new Response(null, { status: 599 }));
  const body = (await res.json().catch(() => null)) as { code?: unknown } | null;
  return { what, status: res.status === 599 ? 0 : res.status, ms: Date.now() - started, contentType: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), code: body?.code };
}

describe('PostgreSQL stopped while requests flow', () => {
  it('/readyz and requests answer 503 problem documents within a bound, and the service recovers on its own', async () => {
    const answers: Answer[] = [];
    let flowing = true;
    // Three clients, one request after another each: a sign-in (hashes, rate limit, session
    // row), a read of the account behind a session, and readiness.
    const client = async (what: string, request: () => Promise<Response>) => {
      while (flowing) {
        answers.push(await timed(what, request));
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const clients = [
      client('signin', () => post(server.base, '/v1/sessions', { login: 'pg-down', password: PASSWORD })),
      client('me', () => fetch(`${server.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })),
      client('readyz', () => fetch(`${server.base}/readyz`)),
    ];
    await waitFor('answers before the stop', () => (answers.length >= 6 ? true : undefined), 30_000);
    expect(answers.every((a) => a.status === 200), JSON.stringify(answers)).toBe(true);

    // Two outages: each a fast stop (sessions ended mid-query, then connections refused)
    // long enough for every client to be refused several times, then a start.
    let recoveredIn = 0;
    for (let round = 0; round < 2; round++) {
      pg.stop();
      const stoppedAt = answers.length;
      await waitFor('503s from every client', () => {
        const during = answers.slice(stoppedAt);
        return ['signin', 'me', 'readyz'].every((w) => during.filter((a) => a.what === w && a.status === 503).length >= 2) ? true : undefined;
      }, 30_000, 100, () => `${JSON.stringify(answers.slice(stoppedAt, stoppedAt + 12).map((a) => [a.what, a.status, a.code, a.ms]))} ${server.stderr().slice(0, 3000)}`);
      await new Promise((r) => setTimeout(r, 1000));
      pg.start();
      const restartedAt = Date.now();
      // Back by itself: no restart of the server, the pool reconnects.
      await waitFor('ready again', async () => ((await fetch(`${server.base}/readyz`)).status === 200 ? true : undefined), 20_000, 200);
      recoveredIn = Math.max(recoveredIn, Date.now() - restartedAt);
    }
    const mark = answers.length;
    await waitFor('answers after recovery', () => (answers.slice(mark).filter((a) => a.what !== 'readyz').length >= 4 ? true : undefined), 30_000);
    flowing = false;
    await Promise.all(clients);

    const after = answers.slice(mark);
    expect(server.child.exitCode, server.stderr()).toBeNull();
    expect(after.every((a) => a.status === 200), JSON.stringify(after)).toBe(true);
    expect(recoveredIn).toBeLessThan(20_000);
    // Throughout: never a 500, never a hang; every refusal a problem document saying to retry.
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a, JSON.stringify(a)).toMatchObject({ status: 503, code: 'service_unavailable', contentType: expect.stringContaining('application/problem+json') });
      expect(Number(a.retryAfter), JSON.stringify(a)).toBeGreaterThan(0);
    }
    // The pool's connect timeout (5 s) bounds each answer; a refused connection is quicker.
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(8000);
    // The process lived through it, and what it was doing before still holds.
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  }, 120_000);
});
