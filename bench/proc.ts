import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { projectRoot } from '../src/platform/paths.js';

/**
 * The processes the load bench talks to: Verity as production runs it (built by
 * scripts/build.mjs, then `node dist/src/server.js` with its own DATA_DIR under /tmp on a
 * random port), and the bare node:http floor. Each is measured from outside, over loopback,
 * and its resident memory is read from /proc.
 */
export interface Proc {
  child: ChildProcess;
  base: string;
  dataDir: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

let built = false;

/** dist/ as `npm start` builds it (only when a source changed). */
export function buildOnce(): void {
  if (built) return;
  const result = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: projectRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`scripts/build.mjs exited ${result.status}`);
  built = true;
}

export async function waitHealthy(base: string, child: ChildProcess, output: () => string): Promise<void> {
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${output()}`);
    if (performance.now() - started > 180_000) throw new Error(`no 200 from /healthz after 180 s: ${output()}`);
    const ok = await fetch(`${base}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function stopper(child: ChildProcess, after: () => void): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    after();
  };
}

/** Starts dist/src/server.js with `env` on top of a minimal environment. */
export async function startVerity(env: Record<string, string>): Promise<Proc> {
  buildOnce();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'verity-bench-data-'));
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  const stop = stopper(child, () => rmSync(dataDir, { recursive: true, force: true }));
  try {
    await waitHealthy(base, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, base, dataDir, stop };
}

/** A bare node:http server in its own process answering every request with `body` as JSON. */
export async function startBare(body: string): Promise<Proc> {
  const port = await freePort();
  const script = `
    const body = Buffer.from(process.env.BODY);
    require('node:http').createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    }).listen(Number(process.env.PORT), '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', script], { env: { BODY: body, PORT: String(port) }, stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  const proc = { child, base, dataDir: '', stop: stopper(child, () => undefined) };
  await waitHealthy(base, child, () => '');
  return proc;
}

/** Resident set size of a process in MB (Linux /proc), or NaN elsewhere. */
export function rssOf(pid: number | undefined): number {
  const file = `/proc/${pid}/status`;
  if (pid === undefined || !existsSync(file)) return NaN;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(file, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Samples a process's RSS every 100 ms while `work` runs; resolves with work's result and the peak. */
export async function withRssPeak<T>(pid: number | undefined, work: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = rssOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100);
  try {
    const result = await work();
    peak = Math.max(peak, rssOf(pid));
    return { result, peakMb: peak };
  } finally {
    clearInterval(timer);
  }
}

/** A fresh database `verity_<tag>_<random>` on the PostgreSQL server of DATABASE_URL (or the local one), dropped after. */
export async function withFreshPostgres<T>(tag: string, fn: (url: string) => Promise<T>): Promise<T> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `verity_${tag}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const target = new URL(url);
    target.pathname = `/${name}`;
    return await fn(target.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
