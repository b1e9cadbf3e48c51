import autocannon from 'autocannon';
import { FakeTwilio } from '../test/helpers/fake-twilio.js';
import { eachLimited, enableTotp, passwordStep, PASSWORD, serviceKey, signUp, signUpMany, type Member } from './client.js';
import { startVerity, withRssPeak, type Proc } from './proc.js';

/** better-auth's sign-in and get-session, the peer of issue 15 item 4 (bench/peer/run.ts). */
export const PEER_SCENARIOS = ['peer-signin', 'peer-session'] as const;

/**
 * The load scenarios (autocannon over loopback against the server process). Reads, gate
 * checks and page views run on a server with rate limits on, as the issue asks; the rest on
 * one with RATE_LIMIT=off (one load client would meet every per-IP cap). Scenarios whose
 * requests are used up (a phone code, a 2SV challenge) are run over a pool of members, one
 * request each; the others for `duration` seconds.
 */
export const SCENARIOS = ['signin', 'read', 'gate', 'page', 'phone-send', 'phone-verify', 'totp', 'forgot', ...PEER_SCENARIOS] as const;
export type Scenario = (typeof SCENARIOS)[number];
const LIMITED: readonly Scenario[] = ['read', 'gate', 'page'];

export interface Options {
  duration: number;
  connections: number;
  /** Members for the one-request-each scenarios. */
  pool: number;
}

export interface Figure {
  db: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  rssMb: number;
  requests: number;
  /** Answers other than the expected status, errors and timeouts. */
  bad: number;
  note?: string;
}

type Request = autocannon.Request;

export async function cannon(options: autocannon.Options, expected: number): Promise<Omit<Figure, 'db' | 'scenario' | 'rssMb'>> {
  // A timed scenario is warmed up for a second first (JIT, pools, the database's caches).
  if (options.duration && !options.overallRate) await autocannon({ ...options, duration: 1 });
  let bad = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, done) => (error ? reject(error as Error) : resolve(done)));
    instance.on('response', (_client, status) => {
      if (status !== expected) bad++;
    });
  });
  const requests = result.requests.total;
  return {
    rps: requests / Math.max(result.duration, 0.001),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    bad: bad + result.errors + result.timeouts + result.mismatches,
  };
}

export async function measured(server: Proc, db: string, scenario: string, run: () => Promise<Omit<Figure, 'db' | 'scenario' | 'rssMb'>>): Promise<Figure> {
  const { result, peakMb } = await withRssPeak(server.child.pid, run);
  const figure = { db, scenario, rssMb: peakMb, ...result };
  console.error(`  ${db} ${scenario}: ${Math.round(figure.rps)}/s p99 ${figure.p99} ms${figure.bad ? `, ${figure.bad} unexpected` : ''}`);
  return figure;
}

const json = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

/** Each request takes the next of `bodies` (with its own headers): one request per member. */
function oneEach(base: string, path: (i: number) => string, make: (i: number) => { headers: Record<string, string>; body: string }): Request {
  let next = 0;
  return {
    method: 'POST',
    path: path(0),
    setupRequest: (req: Request) => {
      const i = next++;
      const { headers, body } = make(i);
      return { ...req, path: path(i), headers, body };
    },
  } as Request;
}

/** The rate-limited server: reads, gate checks, page views. */
async function limitedRun(db: string, env: Record<string, string>, chosen: Scenario[], o: Options, meBody: (body: string) => void): Promise<Figure[]> {
  const server = await startVerity({ ...env, RATE_LIMIT: 'on' });
  const figures: Figure[] = [];
  try {
    const member = await signUp(server.base);
    const me = await fetch(`${server.base}/v1/me`, { headers: { authorization: `Bearer ${member.token}` } });
    meBody(await me.text());
    const base = { duration: o.duration, connections: o.connections };
    if (chosen.includes('read')) {
      const headers = { authorization: `Bearer ${member.token}` };
      const peak = await measured(server, db, 'read GET /v1/me', () => cannon({ ...base, url: server.base + '/v1/me', headers }, 200));
      figures.push(peak);
      const rate = Math.max(1, Math.floor(peak.rps * 0.8));
      figures.push(await measured(server, db, `read at 80% of peak (${rate}/s)`, () => cannon({ ...base, headers, url: server.base + '/v1/me', overallRate: rate }, 200)));
    }
    if (chosen.includes('gate')) {
      const key = await serviceKey(server.base, server.dataDir, member);
      const body = JSON.stringify({ accountId: member.id, action: 'post_job' });
      figures.push(await measured(server, db, 'gate POST /v1/gate/check', () => cannon({ ...base, method: 'POST', url: server.base + '/v1/gate/check', headers: json(key), body }, 200)));
    }
    if (chosen.includes('page')) {
      const headers = { cookie: `verity_session=${member.token}` };
      figures.push(await measured(server, db, 'page GET /account', () => cannon({ ...base, url: server.base + '/account', headers }, 200)));
    }
  } finally {
    await server.stop();
  }
  return figures;
}

/** Waits until the fake has been handed `n` messages (the outbox worker sends after the answer). */
async function handedOff(fake: FakeTwilio, n: number): Promise<void> {
  const started = performance.now();
  while (fake.messages.length < n) {
    if (performance.now() - started > 120_000) throw new Error(`only ${fake.messages.length} of ${n} codes reached the fake Twilio`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** How fast phone sends arrive in the phone-send scenario (issue 15's target: p99 hand-off < 1 s at 200/s). */
export const SEND_RATE = 200;

/** The server with RATE_LIMIT=off: sign-in, forgot password, phone send and verify, TOTP. */
async function openRun(db: string, env: Record<string, string>, chosen: Scenario[], o: Options, meBody: (body: string) => void): Promise<Figure[]> {
  const fake = await FakeTwilio.start();
  const server = await startVerity({ ...env, ...fake.env(), RATE_LIMIT: 'off', PHONE_COUNTRY_DAILY_CAPS: '*=999999999' });
  const figures: Figure[] = [];
  try {
    const base = { duration: o.duration, connections: o.connections };
    const member = await signUp(server.base);
    meBody(await (await fetch(`${server.base}/v1/me`, { headers: { authorization: `Bearer ${member.token}` } })).text());
    if (chosen.includes('signin')) {
      // A returning member signs in from the browser they used before (its device cookie):
      // a new browser would also mean a notice e-mail per sign-in (sessions/known-devices.ts).
      const body = JSON.stringify({ login: member.login, password: PASSWORD });
      const headers = { 'content-type': 'application/json', cookie: member.deviceCookie };
      figures.push(await measured(server, db, 'sign-in POST /v1/sessions', () => cannon({ ...base, method: 'POST', url: server.base + '/v1/sessions', headers, body }, 200)));
    }
    if (chosen.includes('forgot')) {
      const body = JSON.stringify({ login: member.login });
      figures.push(await measured(server, db, 'forgot POST /v1/recovery/password', () => cannon({ ...base, method: 'POST', url: server.base + '/v1/recovery/password', headers: { 'content-type': 'application/json' }, body }, 202)));
    }
    const phone = chosen.includes('phone-send') || chosen.includes('phone-verify');
    const totp = chosen.includes('totp');
    if (!phone && !totp) return figures;
    console.error(`  ${db}: signing up ${o.pool} members for the one-request-each scenarios`);
    const pool = await signUpMany(server.base, o.pool);
    const amount = { url: server.base, connections: o.connections, amount: pool.length };
    if (phone) {
      const numberOf = (i: number) => `+63917${String(1_000_000 + i).padStart(7, '0')}`;
      const asked: number[] = [];
      const send = oneEach(server.base, () => '/v1/me/phone', (i) => {
        asked[i] = Date.now();
        return { headers: json(pool[i]!.token), body: JSON.stringify({ phone: numberOf(i) }) };
      });
      // Arriving at SEND_RATE a second (issue 15: 200), each member once, as a busy hour's
      // sign-ups would; enough connections that the rate, not the client, sets the pace.
      const paced = { ...amount, connections: Math.max(o.connections, 50), overallRate: SEND_RATE };
      const sent = await measured(server, db, `phone send POST /v1/me/phone (${pool.length} members, ${SEND_RATE}/s)`, () => cannon({ ...paced, requests: [send] }, 202));
      await handedOff(fake, pool.length);
      const byNumber = new Map(fake.messages.map((m) => [m.form.get('To'), m] as const));
      const handoff = pool.map((_, i) => byNumber.get(numberOf(i))!.createdAt.getTime() - asked[i]!);
      sent.note = `request → Twilio hand-off p50 ${percentile(handoff, 0.5)} ms, p99 ${percentile(handoff, 0.99)} ms, ${SEND_RATE} sends/s asked`;
      if (chosen.includes('phone-send')) figures.push(sent);
      if (chosen.includes('phone-verify')) {
        const codes = pool.map((_, i) => /\b(\d{6})\b/.exec(byNumber.get(numberOf(i))!.form.get('Body') ?? '')?.[1] ?? '');
        const verify = oneEach(server.base, () => '/v1/me/phone/verify', (i) => ({ headers: json(pool[i]!.token), body: JSON.stringify({ code: codes[i] }) }));
        figures.push(await measured(server, db, `phone verify POST /v1/me/phone/verify (${pool.length})`, () => cannon({ ...amount, requests: [verify] }, 200)));
      }
    }
    if (totp) {
      const apps = await eachLimited(pool, 4, (m: Member) => enableTotp(server.base, m));
      const challenges = await eachLimited(pool, 4, (m: Member) => passwordStep(server.base, m));
      const pass = oneEach(server.base, (i) => `/v1/challenges/${challenges[Math.max(0, i)]}/verify`, (i) => ({
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'totp', code: apps[i]!.generate() }),
      }));
      figures.push(await measured(server, db, `2SV challenge with TOTP (${pool.length})`, () => cannon({ ...amount, requests: [pass] }, 200)));
    }
  } finally {
    await server.stop();
    await fake.down();
  }
  return figures;
}

/** Every chosen scenario on one database; `meBody` receives a real GET /v1/me body for the floor. */
export async function loadOn(db: string, env: Record<string, string>, chosen: Scenario[], o: Options, meBody: (body: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  // The peer's scenarios (bench/peer/run.ts) run on a server of their own: load-main.ts starts it.
  const verity = chosen.filter((s) => !(PEER_SCENARIOS as readonly string[]).includes(s));
  if (verity.some((s) => LIMITED.includes(s))) figures.push(...(await limitedRun(db, env, verity, o, meBody)));
  if (verity.some((s) => !LIMITED.includes(s))) figures.push(...(await openRun(db, env, verity, o, meBody)));
  return figures;
}
