import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitWithin, startServer, type ServerProcess } from '../helpers/process.js';
import { PASSWORD, Smtp, logLines, member, metric, post, waitFor } from './support.js';

/**
 * Graceful shutdown of the real server process: SIGTERM while sign-ins (which hash) and
 * sign-ups are in flight and an e-mail is being handed to a slow SMTP server. The server
 * runs on its embedded database whatever the suite runs on (the drain is the same code).
 */
// Well above the drain's few seconds, for a busy CI machine; the default is 10.
const SHUTDOWN_TIMEOUT_SECONDS = 20;
const dataDir = mkdtempSync(join(tmpdir(), 'verity-drain-'));
let smtp: Smtp;
const running: ServerProcess[] = [];

function start(): Promise<ServerProcess> {
  return startServer({ DATA_DIR: dataDir, EMAIL_TRANSPORT: 'smtp', SMTP_URL: smtp.url, SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS) }).then((s) => {
    running.push(s);
    return s;
  });
}

beforeAll(async () => {
  smtp = await Smtp.reserve();
  await smtp.up();
});

afterAll(async () => {
  for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await smtp?.down();
});

/** Resolves 'refused' if a fresh TCP connection is refused, 'accepted' if the server takes it. */
function tryConnect(port: number): Promise<'refused' | 'accepted'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', () => resolve('refused'));
  });
}

/**
 * A POST on its own connection whose body is sent in two halves: after the first the server
 * has the request in hand (its handler waits for the body), and `finish()` sends the rest.
 */
function halfSent(port: number, path: string, body: unknown): { finish(): void; status: Promise<number | string> } {
  const json = Buffer.from(JSON.stringify(body));
  const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': json.length } });
  const status = new Promise<number | string>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e) => resolve(`no answer: ${e.message}`));
  });
  req.write(json.subarray(0, 5));
  return { finish: () => req.end(json.subarray(5)), status };
}

const incoming = (server: ServerProcess) => logLines(server).filter((l) => l.msg === 'incoming request').length;

describe('SIGTERM drains and exits', () => {
  it('answers every in-flight request, refuses new connections, finishes the outbox hand-off, exits 0 within the bound; nothing lost or sent twice after a restart', async () => {
    const first = await start();
    expect((await post(first.base, '/v1/accounts', member('drain-base'))).status).toBe(201);
    await waitFor('the first e-mail', () => (smtp.received.length === 1 ? true : undefined), 30_000);

    // The SMTP server now takes 4 s a message: a hand-off is in progress when the signal comes.
    smtp.delayMs = 4000;
    const early = [post(first.base, '/v1/accounts', member('drain-0')), post(first.base, '/v1/accounts', member('drain-1'))];
    // The first of them being handed over (the sign-up's e-mail before them has been received).
    await waitFor('an e-mail being handed over', () => (smtp.arriving >= 2 ? true : undefined), 30_000, 20);
    // Nine requests in the server's hands at the signal: eight sign-ins and a sign-up.
    const seen = incoming(first);
    const inFlight = [
      ...Array.from({ length: 8 }, () => halfSent(first.port, '/v1/sessions', { login: 'drain-base', password: PASSWORD })),
      halfSent(first.port, '/v1/accounts', member('drain-2')),
    ];
    await waitFor('the nine requests received', () => (incoming(first) >= seen + 9 ? true : undefined), 30_000, 20);
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const receivedAtSignal = smtp.received.length;
    // Closed to new connections while it still drains (the process is alive, its requests open).
    await waitFor('new connections refused', async () => ((await tryConnect(first.port)) === 'refused' ? true : undefined), 5000, 20);
    expect(first.child.exitCode).toBeNull();
    for (const r of inFlight) r.finish();

    const answers = await Promise.all([...early.map((p) => p.then((r) => r.status)), ...inFlight.map((r) => r.status)]);
    expect(answers).toEqual([201, 201, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const exit = await exitWithin(first, (SHUTDOWN_TIMEOUT_SECONDS + 5) * 1000);
    expect(exit, `${first.stderr()} ${JSON.stringify(logLines(first).filter((l) => Number(l.level) >= 50))}`).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_SECONDS * 1000);
    const handedOverBeforeExit = smtp.received.length;

    // Restart on the same data folder: whatever was not sent goes now, and nothing twice.
    smtp.delayMs = 0;
    const second = await start();
    await waitFor('an empty outbox', async () => ((await metric(second, 'verity_outbox_backlog')) === 0 ? true : undefined), 60_000, 250);
    await new Promise((r) => setTimeout(r, 1000));
    for (const who of ['drain-base', 'drain-0', 'drain-1', 'drain-2']) {
      expect(smtp.to(`${who}@example.com`).filter((m) => m.subject?.includes('Confirm your e-mail')), who).toHaveLength(1);
    }
    expect([...smtp.copiesById().values()].every((n) => n === 1), JSON.stringify([...smtp.copiesById()])).toBe(true);
    // The hand-off in progress at the signal was finished by the drain (the rest waited for the restart).
    expect(receivedAtSignal).toBe(1);
    expect(handedOverBeforeExit).toBeGreaterThanOrEqual(2);
    second.child.kill('SIGTERM');
    expect(await exitWithin(second, 15_000)).toEqual({ code: 0, signal: null });
  }, 240_000);
});
