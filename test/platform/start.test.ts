import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { projectRoot } from '../../src/platform/paths.js';
// @ts-expect-error -- plain JavaScript (it runs before anything is built), no declarations
import { buildIfStale } from '../../scripts/build.mjs';

/**
 * The README's promise, checked on the real entry points: what `npm start` and `npm run migrate`
 * run (scripts/build.mjs, then dist/src/server.js and dist/src/migrate.js): a fresh data folder
 * and no other step give a service that answers, sends its mail and stops cleanly. (Not through
 * tsx: its signal relay SIGKILLs the server when the child is slow to acknowledge, as on a busy
 * machine, and that is not what a member's `npm start` does.)
 */
await (buildIfStale as () => Promise<boolean>)();
const built = (script: string) => join(projectRoot, 'dist', script.replace(/\.ts$/, '.js'));
const dataDir = mkdtempSync(join(tmpdir(), 'verity-start-'));
// A real port rather than PORT=0, so that the default PUBLIC_URL (http://localhost:$PORT) names
// the port the server listens on, as it does for someone running `npm start`.
const port = await freePort();
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: String(port) };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

let server: ChildProcess | undefined;
let stdout = '';
let stderr = '';
afterAll(() => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
});

function logLines(): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function waitFor<T>(what: string, check: () => T | undefined, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const found = check();
      if (found !== undefined) return resolve(found);
      if (server?.exitCode !== null && server?.exitCode !== undefined) return reject(new Error(`server exited ${server.exitCode} before ${what}: ${stderr}`));
      if (Date.now() - started > ms) return reject(new Error(`no ${what} after ${ms} ms; stderr: ${stderr}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

function run(script: string, folder: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [built(script)], { cwd: projectRoot, env: { ...env, DATA_DIR: folder }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('a fresh start on the embedded database', () => {
  let base = '';

  it('migrates, writes the setup token, listens, and /healthz and /readyz answer', async () => {
    server = spawn(process.execPath, [built('src/server.ts')], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    base = await waitFor('listening line', () => {
      const line = logLines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('Server listening at '));
      return line ? String(line.msg).replace('Server listening at ', '') : undefined;
    }, 150_000);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const applied = logLines().find((l) => l.msg === 'migrations applied');
    expect(applied?.applied).toEqual(Object.keys(migrations));

    const tokenFile = join(dataDir, 'admin-setup-token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    // The start log says where to go, on the host name the links use, and names the token's
    // file (not the token).
    const said = (start: string) => logLines().find((l) => typeof l.msg === 'string' && l.msg.startsWith(start));
    expect(said('Verity is ready: open ')?.url).toBe(`http://localhost:${port}`);
    expect(said('Messages are not sent in development')?.url).toBe(`http://localhost:${port}/dev/outbox`);
    const admin = said('No administrator yet');
    expect(admin?.msg).toContain(`http://localhost:${port}/admin`);
    expect(admin?.file).toBe(tokenFile);
    expect(admin?.msg).toContain(tokenFile);
    expect(stdout).not.toContain(token);
    expect((await fetch(`http://localhost:${port}/dev/outbox`)).status).toBe(200);
    // Development generates its SECRET_KEY into DATA_DIR, readable by the owner only.
    expect(statSync(join(dataDir, 'secret-key')).mode & 0o777).toBe(0o600);
    expect(stderr).toBe('');
  }, 180_000);

  it('signs a member up and its outbox worker sends the verification e-mail on its own', async () => {
    const email = 'fresh.start@example.com';
    const res = await fetch(`${base}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, username: 'fresh-start', password: 'correct horse battery staple', country: 'PH', roles: ['client'] }),
    });
    expect(res.status).toBe(201);
    // Nothing here drains the outbox: the server's own worker, woken by the commit, does.
    let messages: Array<{ subject: string; body: string }> = [];
    for (let i = 0; i < 300 && messages.length === 0; i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      messages = (await (await fetch(`${base}/v1/dev/outbox?to=${encodeURIComponent(email)}`)).json()) as Array<{ subject: string; body: string }>;
    }
    expect(messages.map((m) => m.subject)).toEqual([expect.stringContaining('Confirm your e-mail')]);
    // The link opens on the host the start log sent the member to, so the session cookie they
    // got there comes along (a link to 127.0.0.1 would open signed out).
    expect(messages[0]!.body).toContain(`http://localhost:${port}/verify-email?token=`);
  }, 60_000);

  it('shuts down cleanly on SIGTERM (exit code 0)', async () => {
    const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
    server!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logLines().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
  }, 60_000);

  it('`npm run migrate` finds the same folder up to date, and migrates a fresh one', async () => {
    expect(await run('src/migrate.ts', dataDir)).toEqual({ code: 0, out: 'database is up to date\n', err: '' });
    const fresh = mkdtempSync(join(tmpdir(), 'verity-migrate-'));
    expect(await run('src/migrate.ts', fresh)).toEqual({ code: 0, out: `applied: ${Object.keys(migrations).join(', ')}\n`, err: '' });
  }, 180_000);
});
