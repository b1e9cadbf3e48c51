import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { consumeToken } from '../src/platform/tokens.js';
import { notMeLink } from '../src/platform/not-me.js';
import { ms, percentiles } from './measure.js';

/**
 * (f) timing gaps: what a stopwatch tells an attacker. For each answer that must not say
 * whether an account exists (or a link was ever real), the median time of `n` requests of
 * each kind, taken in turns (known, unknown, known, …) so that drift in the machine's load
 * falls on both alike. The target is a gap under 5 ms.
 */
export interface Gap {
  what: string;
  known: number;
  unknown: number;
  gap: number;
  n: number;
}

export const GAP_TARGET_MS = 5;

interface Pair {
  what: string;
  known: (i: number) => Promise<{ statusCode: number }>;
  unknown: (i: number) => Promise<{ statusCode: number }>;
  /** The status both must answer: a different one would itself tell. */
  status: number;
}

async function timed(fn: () => Promise<{ statusCode: number }>, status: number, what: string): Promise<number> {
  const start = performance.now();
  const res = await fn();
  const took = performance.now() - start;
  if (res.statusCode !== status) throw new Error(`${what}: answered ${res.statusCode}, expected ${status}`);
  return took;
}

async function measure(pair: Pair, n: number): Promise<Gap> {
  for (let i = 0; i < 10; i++) {
    await pair.known(-1 - i);
    await pair.unknown(-1 - i);
  }
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < n; i++) {
    known.push(await timed(() => pair.known(i), pair.status, `${pair.what} (known)`));
    unknown.push(await timed(() => pair.unknown(i), pair.status, `${pair.what} (unknown)`));
  }
  const k = percentiles(known).p50;
  const u = percentiles(unknown).p50;
  return { what: pair.what, known: k, unknown: u, gap: Math.abs(k - u), n };
}

/**
 * Runs the six pairs against a built app (limits off, as for any load test). `member` is a
 * live account's username; the not-me tokens are made and used up here, straight through the
 * token helpers, so "used" means exactly what a clicked link leaves behind.
 */
export async function benchGaps(app: FastifyInstance, member: { id: string; username: string }, n = 200): Promise<Gap[]> {
  const { db, secrets, clock, random, config } = app.verity;
  const inject = (url: string, payload?: object) => app.inject({ method: 'POST', url, ...(payload ? { payload } : {}), remoteAddress: '127.0.0.1' });
  const stranger = (i: number) => `nobody-${i}-${randomBytes(3).toString('hex')}`;

  const used: string[] = [];
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < n + 10; i++) {
      const { link } = await notMeLink(trx, { key: secrets.tokenKey, random, now: clock.now(), accountId: member.id, publicUrl: config.publicUrl });
      const token = decodeURIComponent(link.slice(link.lastIndexOf('/') + 1));
      await consumeToken(trx, { key: secrets.tokenKey, now: clock.now(), purpose: 'not_me', token });
      used.push(token);
    }
  });
  const unknownToken = () => randomBytes(32).toString('base64url');
  const ticket = { email: 'bench@example.org', name: 'Bench Person', category: 'login', subject: 'bench', message: 'bench: cannot sign in' };

  const pairs: Pair[] = [
    {
      what: 'POST /v1/recovery/password: known vs unknown login',
      status: 202,
      known: () => inject('/v1/recovery/password', { login: member.username }),
      unknown: (i) => inject('/v1/recovery/password', { login: stranger(i) }),
    },
    {
      what: 'POST /v1/recovery/compromised: known vs unknown login',
      status: 202,
      known: () => inject('/v1/recovery/compromised', { login: member.username, contactEmail: 'bench@example.org', details: 'bench' }),
      unknown: (i) => inject('/v1/recovery/compromised', { login: stranger(i), contactEmail: 'bench@example.org', details: 'bench' }),
    },
    {
      what: 'POST /v1/recovery/security-reset: known vs unknown login',
      status: 202,
      known: () => inject('/v1/recovery/security-reset', { login: member.username, fullName: 'Bench Person', contactEmail: 'bench@example.org', details: 'bench: lost my phone' }),
      unknown: (i) => inject('/v1/recovery/security-reset', { login: stranger(i), fullName: 'Bench Person', contactEmail: 'bench@example.org', details: 'bench: lost my phone' }),
    },
    {
      what: 'POST /v1/support/tickets: known vs unknown login',
      status: 201,
      known: () => inject('/v1/support/tickets', { ...ticket, login: member.username }),
      unknown: (i) => inject('/v1/support/tickets', { ...ticket, login: stranger(i) }),
    },
    {
      what: 'POST /v1/recovery/not-me/{token}: used vs unknown token',
      status: 410,
      known: (i) => inject(`/v1/recovery/not-me/${used[i < 0 ? n - 1 - i : i]}`),
      unknown: () => inject(`/v1/recovery/not-me/${unknownToken()}`),
    },
    {
      what: 'POST /v1/sessions: wrong password, known vs unknown login',
      status: 401,
      known: () => inject('/v1/sessions', { login: member.username, password: 'not the right password at all' }),
      unknown: (i) => inject('/v1/sessions', { login: stranger(i), password: 'not the right password at all' }),
    },
  ];
  const gaps: Gap[] = [];
  for (const pair of pairs) gaps.push(await measure(pair, n));
  return gaps;
}

export function gapCells(g: Gap): { value: string; p99: string; baseline: string; ratio: string } {
  return {
    value: `gap ${ms(g.gap)}`,
    p99: `p50 known ${ms(g.known)} / unknown ${ms(g.unknown)}`,
    baseline: `target < ${GAP_TARGET_MS} ms`,
    ratio: g.gap < GAP_TARGET_MS ? 'ok' : 'OVER',
  };
}
