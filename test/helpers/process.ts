import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../../src/platform/paths.js';

/**
 * The real server as its own process: one Node process running src/server.ts through tsx's
 * loader (what `node dist/src/server.js` does once built), so signals reach the server itself
 * and not a wrapper.
 */
export interface ServerProcess {
  child: ChildProcess;
  base: string;
  port: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function spawnServer(env: Record<string, string>): Omit<ServerProcess, 'base' | 'port'> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/server.ts')], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Starts a server and resolves once /healthz answers. */
export async function startServer(env: Record<string, string>, timeoutMs = 150_000): Promise<ServerProcess> {
  const port = await freePort();
  const started = spawnServer({ ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`server exited before answering: ${started.stderr()}`);
    if (Date.now() > deadline) {
      started.child.kill('SIGKILL');
      throw new Error(`server did not answer within ${timeoutMs} ms: ${started.stderr()}`);
    }
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { ...started, base, port };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Resolves with the exit, or with 'timeout' after `ms`. */
export function exitWithin(server: Pick<ServerProcess, 'exited'>, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'timeout'> {
  return Promise.race([server.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}
