import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';

/** Production settings (real transports are configured, but the test doubles deliver). */
const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://verity.example',
  EMAIL_TRANSPORT: 'smtp',
  SMTP_URL: 'smtp://127.0.0.1:2525',
  SMS_TRANSPORT: 'twilio',
  TWILIO_ACCOUNT_SID: 'AC0123456789',
  TWILIO_AUTH_TOKEN: 'token',
  TWILIO_FROM: '+15005550006',
  TRUST_PROXY: '10.0.0.0/8',
};
const METRICS_TOKEN = 'scrape-me-0123456789abcdef';

let dev: TestApp;
let prod: TestApp;
let prodWithToken: TestApp;
beforeAll(async () => {
  dev = await createTestApp({ env: { METRICS_TOKEN } });
  prod = await createTestApp({ env: PRODUCTION, database: dev.database });
  prodWithToken = await createTestApp({ env: { ...PRODUCTION, METRICS_TOKEN }, database: dev.database });
});
afterAll(async () => {
  await prodWithToken.close();
  await prod.close();
  await dev.close();
});

function metrics(t: TestApp, authorization?: string) {
  return t.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
}

describe('GET /metrics is for operators', () => {
  it('is not served in production without METRICS_TOKEN', async () => {
    expect((await metrics(prod)).statusCode).toBe(404);
    expect((await metrics(prod, `Bearer ${METRICS_TOKEN}`)).statusCode).toBe(404);
  });

  it('with METRICS_TOKEN answers only a scraper presenting it as a bearer token', async () => {
    for (const t of [prodWithToken, dev]) {
      for (const wrong of [undefined, 'Bearer nope', `Bearer ${METRICS_TOKEN}x`, METRICS_TOKEN, `Basic ${METRICS_TOKEN}`]) {
        const res = await metrics(t, wrong);
        expect(res.statusCode, String(wrong)).toBe(401);
        expect(res.body).not.toContain('http_request_duration');
      }
      const ok = await metrics(t, `Bearer ${METRICS_TOKEN}`);
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('verity_');
    }
  });
});

describe('TRUST_PROXY names the proxies whose X-Forwarded-For is believed', () => {
  async function sessionIp(remoteAddress: string, forwardedFor: string): Promise<string | null> {
    const res = await prod.app.inject({ method: 'POST', url: '/v1/accounts', payload: uniqueUser(), remoteAddress, headers: { 'x-forwarded-for': forwardedFor } });
    expect(res.statusCode).toBe(201);
    const token = res.json().session.token as string;
    const sessions = (await prod.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth(token), remoteAddress })).json() as Array<{ ip: string | null }>;
    return sessions[0]!.ip;
  }

  it('takes the client address from a listed proxy, and ignores the header from anyone else', async () => {
    expect(await sessionIp('10.1.2.3', '203.0.113.9')).toBe('203.0.113.9');
    expect(await sessionIp('198.51.100.7', '203.0.113.9')).toBe('198.51.100.7');
  });
});

describe('the session lookup', () => {
  it("does not carry the password hash into the request's member", async () => {
    const member = await signUp(dev);
    const found = await dev.app.verity.sessions.authenticate(member.token);
    expect(found?.account.id).toBe(member.id);
    expect(found?.account.username).toBe(member.username);
    expect(Object.keys(found!.account)).not.toContain('password_hash');
    expect(JSON.stringify(found)).not.toContain('$argon2');
  });

  it('still lets a signed-in member confirm their password (closing the account needs it)', async () => {
    const member = await signUp(dev);
    const wrong = await dev.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(member.token), payload: { password: 'not the password at all' } });
    expect(wrong.statusCode).toBe(401);
    const right = await dev.app.inject({ method: 'POST', url: '/v1/me/close', headers: auth(member.token), payload: { password: member.password } });
    expect(right.statusCode).toBe(200);
  });
});
