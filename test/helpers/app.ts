import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import { ManualClock } from '../../src/platform/clock.js';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { secureRandom, type Random } from '../../src/platform/crypto.js';
import type { Database, Db } from '../../src/platform/db/database.js';
import { DevOutboxTransport } from '../../src/platform/messaging/transports/dev-outbox.js';
import { createTwilioTransport } from '../../src/platform/messaging/transports/twilio.js';
import type { Transports } from '../../src/platform/messaging/transport.js';
import { DbCounterStore, type CounterStore } from '../../src/platform/ratelimit.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { openTestDatabase } from './database.js';

export interface TestApp {
  app: FastifyInstance;
  clock: ManualClock;
  db: Db;
  database: Database;
  config: Config;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Replaces transports; gets the loaded config too (e.g. to build a Twilio transport). */
  transports?: (db: Db, clock: ManualClock, config: Config) => Partial<Transports>;
  counterStore?: (db: Db) => CounterStore;
  random?: Random;
  /** Reuse a database (several apps over one database, like several processes). */
  database?: Database;
  /** A logger to capture what the app writes (defaults to a silent one). */
  logger?: Logger;
}

export const TEST_SECRET = 'test-secret-key-that-is-long-enough-0123456789';

/** The real app over a fresh database copy, with a manual clock and the development outbox. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await openTestDatabase());
  const clock = new ManualClock();
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'verity-test-')),
    PUBLIC_URL: 'http://localhost:3000',
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const dev = new DevOutboxTransport(database.db, clock);
  // SMS_TRANSPORT=twilio in `env` wires the real Twilio transport, as the server does.
  const phone = config.smsTransport === 'twilio' ? createTwilioTransport(config, database.db, clock) : dev;
  const transports: Transports = { email: dev, sms: phone, voice: phone, ...options.transports?.(database.db, clock, config) };
  const app = await buildApp({
    config,
    db: database.db,
    // The member cache is on in every test, as in production: the whole suite checks that
    // every change it makes is seen at once (platform/member-cache.ts).
    changes: database.changes,
    clock,
    random: options.random ?? secureRandom,
    secrets: deriveSecrets(TEST_SECRET),
    transports,
    counterStore: options.counterStore?.(database.db) ?? new DbCounterStore(database.db),
    logger: options.logger ?? pino({ level: process.env.TEST_LOG ?? 'silent' }),
  });
  await app.ready();
  return {
    app,
    clock,
    db: database.db,
    database,
    config,
    close: async () => {
      await app.verity.jobs.stop();
      await app.verity.outbox.stop();
      await app.close();
      if (!options.database) await database.close();
    },
  };
}

let counter = 0;
/** Distinct names per call, so tests in one file never collide. */
export function uniqueUser(prefix = 'member') {
  counter += 1;
  const tag = `${prefix}${counter}${Math.random().toString(36).slice(2, 7)}`;
  return {
    email: `${tag}@example.com`,
    username: tag,
    password: 'correct horse battery staple',
    country: 'PH',
    roles: ['freelancer'],
  };
}

/** A different client address per call, so per-IP limits only bite where a test wants them. */
export function randomIp(): string {
  const b = () => Math.floor(Math.random() * 254) + 1;
  return `10.${b()}.${b()}.${b()}`;
}

export interface SignedUp {
  id: string;
  token: string;
  email: string;
  username: string;
  password: string;
}

export async function signUp(t: TestApp, overrides: Record<string, unknown> = {}): Promise<SignedUp> {
  const user = { ...uniqueUser(), ...overrides };
  const res = await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: user, remoteAddress: randomIp() });
  if (res.statusCode !== 201) throw new Error(`sign-up failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return { id: body.account.id, token: body.session.token, email: user.email as string, username: user.username as string, password: user.password as string };
}

export function auth(token: string) {
  return { authorization: `Bearer ${token}` };
}

/** The newest development-outbox message to a recipient, after the outbox has run. */
export async function lastMessage(t: TestApp, to: string) {
  await t.app.verity.jobs.drain();
  await t.app.verity.outbox.drain();
  const res = await t.app.inject({ method: 'GET', url: `/v1/dev/outbox?to=${encodeURIComponent(to)}` });
  const list = res.json() as Array<{ channel: string; to: string; subject: string | null; body: string }>;
  return list[0];
}

export function linkToken(body: string, path: string): string {
  const match = new RegExp(`${path.replace(/[/?]/g, '\\$&')}[=/]?([A-Za-z0-9_-]+)`).exec(body);
  if (!match?.[1]) throw new Error(`no ${path} link in: ${body}`);
  return match[1];
}

export function problem(res: LightMyRequestResponse) {
  return res.json() as { type: string; title: string; status: number; detail: string; code: string; errors?: Array<{ path: string; message: string }>; retryAfter?: number; [k: string]: unknown };
}

export async function countRows(db: Db, table: 'accounts' | 'sessions' | 'audit_events' | 'outbox' | 'staff_roles' | 'service_keys' | 'message_deliveries'): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Steps a member's session up, as a client would: POST /v1/me/step-up, then the password
 * (accounts without 2SV). For an account with 2SV on, pass `pass` to answer the challenge
 * with one of its methods.
 */
export async function stepUp(
  t: TestApp,
  who: { token: string; password?: string },
  pass?: (challenge: { id: string; methods: Array<{ type: string }> }) => Promise<void>,
): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/me/step-up', headers: auth(who.token) });
  if (res.statusCode !== 200) throw new Error(`step-up failed: ${res.statusCode} ${res.body}`);
  const challenge = res.json().challenge as { id: string; methods: Array<{ type: string }> };
  if (pass) return pass(challenge);
  const verify = await t.app.inject({
    method: 'POST',
    url: `/v1/challenges/${challenge.id}/verify`,
    headers: auth(who.token),
    payload: { method: 'password', password: who.password ?? 'correct horse battery staple' },
  });
  if (verify.statusCode !== 200) throw new Error(`step-up verify failed: ${verify.statusCode} ${verify.body}`);
}
