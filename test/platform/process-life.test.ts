import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../src/platform/db/datadir-lock.js';
import { exitWithin, spawnServer, startServer, type ServerProcess } from '../helpers/process.js';

/**
 * Connections and the process's life, on the real server process (the embedded database,
 * whatever DATABASE_URL the suite runs with: these are properties of the process).
 */
const running: ServerProcess[] = [];
afterAll(() => {
  for (const server of running) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
});

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer(env);
  running.push(server);
  return server;
}

const folder = () => mkdtempSync(join(tmpdir(), 'verity-life-'));

/** Opens a raw connection and resolves, once the server closes it, with the ms it took and what it answered. */
function slowClient(port: number, first: string, drip: string, everyMs: number): Promise<{ closedAfterMs: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const opened = Date.now();
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - opened, answer });
    });
    socket.on('connect', () => {
      socket.write(first);
      let i = 0;
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip[i++ % drip.length]!);
      }, everyMs);
    });
    // The test's own bound: far below "for ever", well above the server's 2 s.
    setTimeout(() => {
      if (!socket.destroyed) {
        clearInterval(timer);
        socket.destroy();
        reject(new Error(`the server still held the connection after 12 s (answer so far: ${JSON.stringify(answer)})`));
      }
    }, 12_000);
  });
}

describe('slow clients cannot hold a connection', () => {
  let server: ServerProcess;

  it('a body trickled a byte at a time is cut off at REQUEST_TIMEOUT_SECONDS with 408', async () => {
    server = await start({ DATA_DIR: folder(), REQUEST_TIMEOUT_SECONDS: '2' });
    const head = `POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`;
    const { closedAfterMs, answer } = await slowClient(server.port, head, '"login":', 300);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeGreaterThanOrEqual(1900);
    expect(closedAfterMs).toBeLessThan(6000);
  }, 180_000);

  it('headers trickled a byte at a time are cut off too', async () => {
    const { closedAfterMs, answer } = await slowClient(server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 'abcdef', 300);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeLessThan(6000);
  }, 30_000);

  it('a request sent at a normal pace is still answered', async () => {
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await exitWithin(server, 15_000)).toEqual({ code: 0, signal: null });
  }, 30_000);
});

describe('SIGTERM ends the process within its bound', () => {
  it('even when stdout has lost its reader right after a sign-up (three times over)', async () => {
    const dataDir = folder();
    for (let round = 0; round < 3; round++) {
      const server = await start({ DATA_DIR: dataDir });
      // A sign-up still in flight when the signal comes, as when a parent stops its child and exits.
      const signUp = fetch(`${server.base}/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `stop${round}@example.com`, username: `stop-${round}`, password: 'correct horse battery staple', country: 'PH', roles: ['client'] }),
      }).then((r) => r.status, () => 'no answer');
      await new Promise((r) => setTimeout(r, round * 50));
      server.child.stdout!.destroy();
      server.child.kill('SIGTERM');
      const exit = await exitWithin(server, 12_000);
      if (exit === 'timeout') server.child.kill('SIGKILL');
      expect(exit, `round ${round}`).toEqual({ code: 0, signal: null });
      expect([201, 503, 'no answer']).toContain(await signUp);
      // It let go of its data folder on the way out.
      expect(existsSync(join(dataDir, LOCK_FILE)), `round ${round}`).toBe(false);
    }
  }, 300_000);
});

describe('one process per embedded data folder', () => {
  it('a second server on the same DATA_DIR refuses to start with one clear line; the first keeps serving', async () => {
    const dataDir = folder();
    const first = await start({ DATA_DIR: dataDir });
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(first.child.pid));

    const second = spawnServer({ DATA_DIR: dataDir, PORT: '0' });
    const exit = await exitWithin(second, 60_000);
    if (exit === 'timeout') second.child.kill('SIGKILL');
    expect(exit).toEqual({ code: 1, signal: null });
    const lines = second.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`DATA_DIR ${dataDir} is in use by another Verity process (pid ${first.child.pid})`);
    expect((await fetch(`${first.base}/readyz`)).status).toBe(200);

    // A holder that died without cleaning up (kill -9) does not lock the folder for ever.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(true);
    const third = await start({ DATA_DIR: dataDir });
    expect((await fetch(`${third.base}/readyz`)).status).toBe(200);
    third.child.kill('SIGTERM');
    expect(await exitWithin(third, 15_000)).toEqual({ code: 0, signal: null });
  }, 300_000);
});
