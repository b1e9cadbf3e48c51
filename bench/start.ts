import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/platform/paths.js';
import { percentiles, type Sample } from './measure.js';

/**
 * (e) start time: `npm start` spawned, as a newcomer runs it, until GET /healthz first answers
 * 200. "Fresh install" has no build yet (dist/'s manifest is removed, so everything is
 * transpiled) and a new DATA_DIR (PGlite creates its database and every migration runs);
 * "restart" starts the same unchanged checkout on the same DATA_DIR again. The baseline is a
 * bare `node -e 0`. On Linux the CPU seconds the whole process group used until that first 200
 * are given too: on a machine shared with other work they are closer than the wall time to what
 * an idle machine takes.
 */
export interface StartTime {
  fresh: Sample;
  restart: Sample;
  node: Sample;
  freshCpu: number | undefined;
  restartCpu: number | undefined;
  load: string;
}

/**
 * CPU seconds used so far by every process in a process group, from /proc: each one's own time
 * plus what its finished children used (the build step, once the shell has waited for it).
 */
function groupCpuSeconds(group: number): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended meanwhile
    }
    // Fields after "pid (comm)": state ppid pgrp … utime(14) stime(15) cutime(16) cstime(17).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== group) continue;
    ticks += [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  }
  return ticks / 100; // USER_HZ, 100 on Linux
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** Spawns `command` in its own process group; resolves with ms to the first 200 and CPU seconds. */
async function timeToHealthy(command: string[], dataDir: string): Promise<{ ms: number; cpu: number | undefined }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${stderr}`);
      if (performance.now() - started > 180_000) throw new Error(`no 200 from /healthz after 180 s: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
      if (ok) return { ms: performance.now() - started, cpu: groupCpuSeconds(child.pid!) };
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

async function nodeBaseline(): Promise<number> {
  const started = performance.now();
  await new Promise((resolve) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', resolve));
  return performance.now() - started;
}

export async function benchStart(restarts = 3): Promise<StartTime> {
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  const folder = mkdtempSync(join(tmpdir(), 'verity-bench-start-'));
  const dataDir = join(folder, 'data');
  const npmStart = ['npm', 'start', '--silent'];
  try {
    // A fresh checkout has no dist/ and so no manifest: without it the build runs in full.
    rmSync(join(projectRoot, 'dist', '.build-manifest.json'), { force: true });
    const fresh = await timeToHealthy(npmStart, dataDir);
    const again: Array<{ ms: number; cpu: number | undefined }> = [];
    for (let i = 0; i < restarts; i++) again.push(await timeToHealthy(npmStart, dataDir));
    const node: number[] = [];
    for (let i = 0; i < 5; i++) node.push(await nodeBaseline());
    const cpus = again.map((r) => r.cpu).filter((c): c is number => c !== undefined);
    return {
      fresh: percentiles([fresh.ms]),
      restart: percentiles(again.map((r) => r.ms)),
      node: percentiles(node),
      freshCpu: fresh.cpu,
      restartCpu: cpus.length ? percentiles(cpus).p50 : undefined,
      load,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
