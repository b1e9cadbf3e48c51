import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeer } from '../../bench/peer/run.js';
import type { Proc } from '../../bench/proc.js';
import { argon2Params } from '../../src/accounts/password.js';
import { onPostgres } from '../helpers/database.js';

/**
 * The benchmark's peer (bench/peer/server.ts, issue 15 item 4) is what BENCHMARKS.md says it
 * is: better-auth storing argon2id at Verity's parameters (NFKC first) and checking them, and
 * a get-session that reads the database on every request (a deleted session is refused at
 * once), answering `null` for a session it does not know, which is why the bench compares
 * every body.
 * PostgreSQL only: the peer runs on PostgreSQL (its own database on that server).
 */
describe.skipIf(!onPostgres)('the bench peer (better-auth)', () => {
  const url = process.env.DATABASE_URL ?? '';
  const name = `verity_t_peer_${randomBytes(6).toString('hex')}`;
  let peer: Proc;
  let db: pg.Client;

  beforeAll(async () => {
    const target = new URL(url);
    target.pathname = `/${name}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    peer = await startPeer(target.toString());
    db = new pg.Client({ connectionString: target.toString() });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await peer?.stop();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  const post = (path: string, body: unknown) =>
    fetch(peer.base + path, { method: 'POST', headers: { 'content-type': 'application/json', origin: peer.base }, body: JSON.stringify(body) });
  const session = async (cookie: string) => (await fetch(`${peer.base}/api/auth/get-session`, { headers: { cookie } })).json() as Promise<{ user: { email: string } } | null>;
  const email = 'peer-test@example.com';
  const password = 'correct horse battery staple';

  it('stores argon2id at Verity\'s parameters and refuses a wrong password', async () => {
    expect((await post('/api/auth/sign-up/email', { email, password, name: 'Peer' })).status).toBe(200);
    const { rows } = await db.query<{ password: string }>('SELECT a.password FROM account a JOIN "user" u ON u.id = a."userId" WHERE u.email = $1', [email]);
    const { memoryCost, timeCost, parallelism } = argon2Params;
    expect(rows[0]?.password.startsWith(`$argon2id$v=19$m=${memoryCost},t=${timeCost},p=${parallelism}$`)).toBe(true);
    expect((await post('/api/auth/sign-in/email', { email, password: 'wrong horse battery staple' })).status).toBe(401);
    // The same password typed in another normal form signs in, as at Verity (NFKC).
    expect((await post('/api/auth/sign-in/email', { email, password: password.replace('c', '\uff43') })).status).toBe(200);
  });

  it('reads the session from the database on each get-session (a deleted one is refused at once) and answers null for an unknown one', async () => {
    const res = await post('/api/auth/sign-in/email', { email, password });
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('better-auth.session_token='))!;
    expect((await session(cookie))?.user.email).toBe(email);
    expect(await session(`${cookie.slice(0, -6)}AAAAAA`)).toBeNull();
    const token = decodeURIComponent(cookie.split('=')[1]!).split('.')[0]!;
    expect((await db.query('DELETE FROM session WHERE token = $1', [token])).rowCount).toBe(1);
    expect(await session(cookie)).toBeNull();
  });
});
