import { expect } from 'vitest';
import { auth, randomIp, type SignedUp, type TestApp } from '../helpers/app.js';

/** A valid Philippine mobile number nobody else in the run uses (+63 917 xxx xxxx). */
export function phMobile(): string {
  return `+63917${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

export function startPhone(t: TestApp, who: SignedUp, body: Record<string, unknown>, ip = randomIp()) {
  return t.app.inject({ method: 'POST', url: '/v1/me/phone', headers: auth(who.token), payload: body, remoteAddress: ip });
}

export function resend(t: TestApp, who: SignedUp, body: Record<string, unknown> = {}, ip = randomIp()) {
  return t.app.inject({ method: 'POST', url: '/v1/me/phone/resend', headers: auth(who.token), payload: body, remoteAddress: ip });
}

export function verify(t: TestApp, who: SignedUp, code: string) {
  return t.app.inject({ method: 'POST', url: '/v1/me/phone/verify', headers: auth(who.token), payload: { code } });
}

export async function phoneStatus(t: TestApp, who: SignedUp) {
  const res = await t.app.inject({ method: 'GET', url: '/v1/me/phone', headers: auth(who.token) });
  expect(res.statusCode).toBe(200);
  return res.json();
}

/** Every SMS or call to a number, newest first, after the outbox has handed them over. */
export async function messagesTo(t: TestApp, e164: string) {
  await settle(t);
  const res = await t.app.inject({ method: 'GET', url: `/v1/dev/outbox?to=${encodeURIComponent(e164)}` });
  return res.json() as Array<{ id: string; channel: string; to: string; body: string }>;
}

/** The code in the newest SMS (or call) to a number. */
export async function lastCode(t: TestApp, e164: string): Promise<string> {
  const [message] = await messagesTo(t, e164);
  const match = message ? /(\d)(?:, )(\d), (\d), (\d), (\d), (\d)|\b(\d{6})\b/.exec(message.body) : null;
  if (!match) throw new Error(`no code sent to ${e164}`);
  return match[7] ?? match.slice(1, 7).join('');
}

/** Starts and completes verification of a number on an account. */
export async function verifyNumber(t: TestApp, who: SignedUp, e164 = phMobile()): Promise<string> {
  const started = await startPhone(t, who, { phone: e164 });
  expect(started.statusCode, started.body).toBe(202);
  const res = await verify(t, who, await lastCode(t, e164));
  expect(res.statusCode, res.body).toBe(200);
  await settle(t);
  return e164;
}

/**
 * Hands queued messages to the dev outbox, then moves the clock a second on: the dev outbox
 * lists newest first by the time it stored a message, so later messages must be stored later.
 */
export async function settle(t: TestApp): Promise<void> {
  await t.app.verity.outbox.drain();
  t.clock.advanceSeconds(1);
}

export async function makeAdmin(t: TestApp, accountId: string): Promise<void> {
  await t.db.insertInto('staff_roles').values({ account_id: accountId, role: 'admin', granted_by: null, granted_at: t.clock.now() }).execute();
}

export async function count(t: TestApp, table: 'phone_numbers' | 'phone_verifications' | 'phone_lookups' | 'phone_voip_ranges' | 'outbox' | 'audit_events') {
  const row = await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
