import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOTP } from 'otpauth';
import { SETUP_TOKEN_FILE } from '../src/admin/service.js';

/** The load bench's setup, done over HTTP against the server process as a client would. */

export const PASSWORD = 'correct horse battery staple';

export interface Member {
  id: string;
  login: string;
  token: string;
  /** `verity_device=…`: the browser that signed up, which a returning member signs in from. */
  deviceCookie: string;
}

/** A JSON answer of the shape API.md gives for its status (checked by expect before use). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = any;

export async function call(base: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; json: Answer }> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // a page, not JSON
  }
  return { status: res.status, json };
}

function expect(what: string, got: { status: number; json: unknown }, status: number): Answer {
  if (got.status !== status) throw new Error(`${what}: ${got.status} ${JSON.stringify(got.json).slice(0, 300)}`);
  return got.json;
}

let counter = 0;
const runTag = Math.random().toString(36).slice(2, 8);

export async function signUp(base: string): Promise<Member> {
  const login = `b${runTag}${counter++}`;
  const body = { email: `${login}@example.com`, username: login, password: PASSWORD, country: 'PH', roles: ['freelancer'] };
  const res = await fetch(`${base}/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = expect('sign-up', { status: res.status, json: await res.json() }, 201);
  const deviceCookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('verity_device=')) ?? '';
  return { id: json.account.id, login, token: json.session.token, deviceCookie };
}

/** `n` members, signed up four at a time (each sign-up hashes a password). */
export function signUpMany(base: string, n: number): Promise<Member[]> {
  return eachLimited(Array.from({ length: n }, (_, i) => i), 4, () => signUp(base));
}

/** Makes `member` the first admin (with the setup token file) and creates a service key. */
export async function serviceKey(base: string, dataDir: string, member: Member): Promise<string> {
  const token = readFileSync(join(dataDir, SETUP_TOKEN_FILE), 'utf8').trim();
  expect('admin setup', await call(base, 'POST', '/v1/admin/setup', { token: member.token, body: { token } }), 200);
  const key = expect('service key', await call(base, 'POST', '/v1/admin/service-keys', { token: member.token, body: { name: `bench ${runTag}` } }), 201);
  return key.key as string;
}

export function totpOf(secret: string): TOTP {
  return new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 });
}

/**
 * Turns on an authenticator app for `member`, confirmed with the previous step's code so that
 * the current step is still unused for the sign-in challenge; returns the app's TOTP.
 */
export async function enableTotp(base: string, member: Member): Promise<TOTP> {
  const setup = expect('totp setup', await call(base, 'POST', '/v1/me/two-step/totp', { token: member.token }), 200);
  const totp = totpOf(setup.secret as string);
  const confirm = () => call(base, 'POST', '/v1/me/two-step/totp/confirm', { token: member.token, body: { setupId: setup.setupId, code: totp.generate({ timestamp: Date.now() - 30_000 }) } });
  let answer = await confirm();
  // The step can turn between making the code and the server checking it: then once more.
  if (answer.status === 422) answer = await confirm();
  expect('totp confirm', answer, 200);
  return totp;
}

/** Signs in with the password of a member with 2SV on: the challenge's id. */
export async function passwordStep(base: string, member: Member): Promise<string> {
  const json = expect('sign-in', await call(base, 'POST', '/v1/sessions', { body: { login: member.login, password: PASSWORD } }), 200);
  if (json.status !== 'two_step_required') throw new Error(`sign-in: expected a 2SV challenge, got ${json.status}`);
  return json.challenge.id as string;
}

/** Runs `fn` over `items`, `lanes` at a time. */
export async function eachLimited<T, R>(items: T[], lanes: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
