import { spawn } from 'node:child_process';
import { argon2Params } from '../../src/accounts/password.js';
import { projectRoot } from '../../src/platform/paths.js';
import { PASSWORD } from '../client.js';
import { cannon, measured, type Figure, type Options, type Scenario } from '../load.js';
import { freePort, stopper, waitHealthy, type Proc } from '../proc.js';

/**
 * The peer of issue 15 item 4, side by side: better-auth (bench/peer/server.ts, built to
 * dist/bench/peer/server.js and run with node as its own process) on a fresh database of the same PostgreSQL, measured with the same
 * load shape as Verity's `signin` and `read` (the same connections and duration, a one-second
 * warm-up, autocannon over loopback, RSS read from /proc).
 *
 *   peer-signin   POST /api/auth/sign-in/email with the right password (200), as `signin`
 *   peer-session  GET /api/auth/get-session with the session cookie, as `read`; get-session
 *                 answers 200 `null` for a session it does not know, so every body is
 *                 compared with the one fetched first (autocannon's expectBody): a
 *                 different body counts as unexpected.
 */
const SECRET = 'bench-peer-secret-that-is-long-enough-0123456789';

export const PEER_SIGNIN = 'peer: better-auth sign-in POST /api/auth/sign-in/email';
export const PEER_SESSION = 'peer: better-auth get-session GET /api/auth/get-session';

/**
 * Builds bench/peer/server.ts to dist/bench/peer/server.js as scripts/build.mjs builds Verity
 * (esbuild, ESM, one file per source, nothing bundled), so that both run as plain JavaScript:
 * under tsx the peer's process would carry tsx's loader thread (about 65 MB more RSS here).
 */
async function buildPeer(): Promise<string> {
  const { build } = await import('esbuild');
  await build({
    absWorkingDir: projectRoot,
    entryPoints: ['bench/peer/server.ts'],
    outdir: 'dist',
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  return 'dist/bench/peer/server.js';
}

export async function startPeer(databaseUrl: string): Promise<Proc> {
  const script = await buildPeer();
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      BETTER_AUTH_SECRET: SECRET,
      ARGON2_PARAMS: JSON.stringify(argon2Params),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  const stop = stopper(child, () => undefined);
  try {
    await waitHealthy(base, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, base, dataDir: '', stop };
}

async function post(base: string, path: string, body: unknown): Promise<Response> {
  // fetch sends sec-fetch-mode, so better-auth takes it for a browser and wants its Origin.
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`peer ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  return res;
}

/**
 * The chosen peer scenarios against a better-auth server on `databaseUrl` (a fresh database).
 * `getBody` receives a get-session body, for the floor when no Verity read ran.
 */
export async function peerRun(db: string, databaseUrl: string, chosen: Scenario[], o: Options, getBody: (body: string) => void): Promise<Figure[]> {
  const server = await startPeer(databaseUrl);
  const figures: Figure[] = [];
  try {
    const email = `peer${process.pid}@example.com`;
    await post(server.base, '/api/auth/sign-up/email', { email, password: PASSWORD, name: 'Bench Peer' });
    const signedIn = await post(server.base, '/api/auth/sign-in/email', { email, password: PASSWORD });
    const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('better-auth.session_token='));
    if (!cookie) throw new Error('peer sign-in set no session cookie');
    const session = await fetch(`${server.base}/api/auth/get-session`, { headers: { cookie } });
    const expectBody = await session.text();
    if (session.status !== 200 || (JSON.parse(expectBody) as { user?: { email?: string } } | null)?.user?.email !== email) {
      throw new Error(`peer get-session did not know the session: ${session.status} ${expectBody.slice(0, 300)}`);
    }
    getBody(expectBody);
    const base = { duration: o.duration, connections: o.connections };
    if (chosen.includes('peer-signin')) {
      const body = JSON.stringify({ email, password: PASSWORD });
      figures.push(await measured(server, db, PEER_SIGNIN, () => cannon({ ...base, method: 'POST', url: server.base + '/api/auth/sign-in/email', headers: { 'content-type': 'application/json' }, body }, 200)));
    }
    if (chosen.includes('peer-session')) {
      figures.push(await measured(server, db, PEER_SESSION, () => cannon({ ...base, url: server.base + '/api/auth/get-session', headers: { cookie }, expectBody }, 200)));
    }
  } finally {
    await server.stop();
  }
  return figures;
}

/** Verity beside the peer, one line per pair measured in this run. */
export function peerLines(figures: Figure[]): string[] {
  const out: string[] = [];
  const pairs = [
    ['sign-in', (f: Figure) => f.scenario.startsWith('sign-in'), PEER_SIGNIN],
    ['signed-in read', (f: Figure) => f.scenario.startsWith('read GET'), PEER_SESSION],
  ] as const;
  for (const db of new Set(figures.map((f) => f.db))) {
    for (const [what, isVerity, peerName] of pairs) {
      const peer = figures.find((f) => f.db === db && f.scenario === peerName);
      if (!peer) continue;
      const verity = figures.find((f) => f.db === db && isVerity(f));
      const mine = verity ? `Verity ${verity.rps.toFixed(0)}/s p99 ${verity.p99} ms` : 'Verity not measured';
      const ratio = verity ? `: Verity at ${(verity.rps / peer.rps).toFixed(2)}× the peer's req/s, ${(verity.p99 / Math.max(peer.p99, 1)).toFixed(2)}× its p99` : '';
      out.push(`  ${db} ${what}: ${mine}, better-auth ${peer.rps.toFixed(0)}/s p99 ${peer.p99} ms${ratio}`);
    }
  }
  return out;
}
