import * as OTPAuth from 'otpauth';
import { expect } from 'vitest';
import { auth, lastMessage, type SignedUp, type TestApp } from '../helpers/app.js';

export function call(t: TestApp, who: SignedUp, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  return t.app.inject({ method, url, headers: auth(who.token), ...(payload === undefined ? {} : { payload: payload as object }) });
}

export async function overview(t: TestApp, who: SignedUp) {
  const res = await call(t, who, 'GET', '/v1/me/two-step');
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    enabled: boolean;
    methods: Array<{ type: string; addedAt: string; remaining?: number }>;
    recommendation?: { code: string; message: string };
    backupCodes: { remaining: number; low: boolean } | null;
    passkeys: Array<{ id: string; name: string; createdAt: string; lastUsedAt: string | null }>;
    securityQuestion: { id: string; text: string } | null;
  };
}

/** The code an authenticator app holding `secret` shows at the app's current time. */
export function appCode(t: TestApp, secret: string, offsetSteps = 0): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: t.clock.now().getTime() + offsetSteps * 30_000 });
}

/** Sets up and confirms an authenticator app over HTTP; returns its secret. */
export async function addAuthenticator(t: TestApp, who: SignedUp): Promise<string> {
  const setup = await call(t, who, 'POST', '/v1/me/two-step/totp');
  expect(setup.statusCode, setup.body).toBe(200);
  const { setupId, secret } = setup.json() as { setupId: string; secret: string };
  const confirmed = await call(t, who, 'POST', '/v1/me/two-step/totp/confirm', { setupId, code: appCode(t, secret) });
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  return secret;
}

export async function auditEvents(t: TestApp, accountId: string) {
  const rows = await t.db.selectFrom('audit_events').select(['event', 'details', 'created_at']).where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
  return rows;
}

/** The newest e-mail to the member, with its "this wasn't me" link checked. */
export async function changeMail(t: TestApp, who: SignedUp) {
  const mail = await lastMessage(t, who.email);
  expect(mail?.body).toMatch(/\/recover\/not-me\/[A-Za-z0-9_-]{20,}/);
  return mail!;
}
