import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { deliveryReport } from '../../src/platform/messaging/delivery.js';
import { policies } from '../../src/platform/ratelimit.js';
import { isValidTwilioSignature, twilioSignature } from '../../src/platform/twilio/signature.js';
import { countRows, createTestApp, problem, randomIp, signUp, uniqueUser, type TestApp } from '../helpers/app.js';
import { FakeTwilio, outboxRow, postSigned, queuePhoneMessage } from '../helpers/fake-twilio.js';

const PUBLIC = 'https://verity.example';
let fake: FakeTwilio;
let t: TestApp;
let sid: string;
let outboxId: string;
let callbackUrl: string;

beforeAll(async () => {
  fake = await FakeTwilio.start();
  t = await createTestApp({ env: fake.env({ PUBLIC_URL: PUBLIC }) });
  outboxId = await queuePhoneMessage(t.db, t.clock, 'sms', '+15553330000', 'code 000000');
  await t.app.verity.outbox.drain();
  sid = (await outboxRow(t.db, outboxId)).provider_id!;
  callbackUrl = fake.resource(sid).form.get('StatusCallback')!;
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

const deliveredParams = () => fake.callbackParams(sid, 'delivered');

async function expectRefused(res: Awaited<ReturnType<typeof postSigned>>) {
  expect(res.statusCode).toBe(403);
  expect(res.headers['content-type']).toContain('application/problem+json');
  expect(problem(res).code).toBe('signature_invalid');
  expect(await countRows(t.db, 'message_deliveries')).toBe(0);
  expect((await deliveryReport(t.db, outboxId))?.status).toBe('sent');
}

describe('forged or altered callbacks are refused with 403 and change nothing', () => {
  it('no X-Twilio-Signature header', async () => {
    await expectRefused(await postSigned(t.app, callbackUrl, deliveredParams(), { authToken: fake.authToken, unsigned: true }));
  });

  it('signed with another auth token', async () => {
    await expectRefused(await postSigned(t.app, callbackUrl, deliveredParams(), { authToken: randomBytes(16).toString('hex') }));
  });

  it('a parameter changed after signing', async () => {
    await expectRefused(await postSigned(t.app, callbackUrl, fake.callbackParams(sid, 'sent'), { authToken: fake.authToken, tamper: { MessageStatus: 'delivered' } }));
    await expectRefused(await postSigned(t.app, callbackUrl, deliveredParams(), { authToken: fake.authToken, tamper: { ErrorCode: '30003' } }));
  });

  it('signed for another URL: http instead of https, another host, another path, another message id', async () => {
    const other = await queuePhoneMessage(t.db, t.clock, 'sms', '+15553330001', 'x');
    for (const signUrl of [
      callbackUrl.replace('https://', 'http://'),
      callbackUrl.replace('verity.example', 'evil.example'),
      callbackUrl.replace('/sms/twilio', '/sms/other'),
      callbackUrl.replace(outboxId, other),
      `${PUBLIC}/v1/webhooks/sms/twilio`,
    ]) {
      await expectRefused(await postSigned(t.app, callbackUrl, deliveredParams(), { authToken: fake.authToken, signUrl }));
    }
    // Posting a callback signed for one message to another message's URL.
    await expectRefused(await postSigned(t.app, callbackUrl.replace(outboxId, other), deliveredParams(), { authToken: fake.authToken, signUrl: callbackUrl }));
  });

  it('a signature header that is not a single base64 string', async () => {
    const payload = new URLSearchParams(deliveredParams()).toString();
    for (const signature of ['', 'x'.repeat(300), 'not base64 at all']) {
      const res = await t.app.inject({
        method: 'POST',
        url: callbackUrl.slice(PUBLIC.length),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        payload,
      });
      await expectRefused(res);
    }
  });
});

describe('a genuine callback', () => {
  it('is accepted with 204 and recorded', async () => {
    const res = await postSigned(t.app, callbackUrl, deliveredParams(), { authToken: fake.authToken });
    expect(res.statusCode).toBe(204);
    expect((await deliveryReport(t.db, outboxId))?.status).toBe('delivered');
  });

  it("is accepted when Twilio signed the URL with the default port, as Twilio's own libraries allow", async () => {
    const res = await postSigned(t.app, callbackUrl, deliveredParams(), { authToken: fake.authToken, signUrl: callbackUrl.replace(PUBLIC, `${PUBLIC}:443`) });
    expect(res.statusCode).toBe(204);
  });

  it('is accepted with a charset on the content type, as Twilio sends it', async () => {
    const params = fake.callbackParams(sid, 'delivered');
    const res = await t.app.inject({
      method: 'POST',
      url: callbackUrl.slice(PUBLIC.length),
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', 'x-twilio-signature': getExpectedTwilioSignature(fake.authToken, callbackUrl, params) },
      payload: new URLSearchParams(params).toString(),
    });
    expect(res.statusCode).toBe(204);
  });
});

describe('metrics', () => {
  it('count callbacks by outcome, refused signatures included', async () => {
    const metric = async (result: string) => {
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      const line = text.split('\n').find((l) => l.startsWith(`verity_delivery_reports_total{result="${result}"}`));
      return Number(line?.split(' ')[1] ?? 0);
    };
    const [delivered, refused] = [await metric('delivered'), await metric('bad_signature')];
    expect((await postSigned(t.app, callbackUrl, deliveredParams(), { authToken: fake.authToken })).statusCode).toBe(204);
    expect((await postSigned(t.app, callbackUrl, deliveredParams(), { authToken: fake.authToken, unsigned: true })).statusCode).toBe(403);
    expect(await metric('delivered')).toBe(delivered + 1);
    expect(await metric('bad_signature')).toBe(refused + 1);
  });
});

describe('only this route reads form bodies', () => {
  it('refuses a JSON body on the webhook with 415', async () => {
    const res = await t.app.inject({ method: 'POST', url: callbackUrl.slice(PUBLIC.length), payload: deliveredParams() });
    expect(res.statusCode).toBe(415);
    expect(problem(res).code).toBe('unsupported_media_type');
  });

  it('the rest of /v1 still refuses form bodies and still takes JSON', async () => {
    const before = await countRows(t.db, 'accounts');
    const form = await t.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...uniqueUser(), roles: 'freelancer' }).toString(),
      remoteAddress: randomIp(),
    });
    expect(form.statusCode).toBe(415);
    expect(await countRows(t.db, 'accounts')).toBe(before);
    await signUp(t);
    expect(await countRows(t.db, 'accounts')).toBe(before + 1);
  });
});

describe('documentation', () => {
  it('the OpenAPI document describes the webhook as a form-encoded POST answering 204 or 403', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const operation = res.json().paths['/v1/webhooks/sms/twilio'].post;
    expect(Object.keys(operation.requestBody.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['204', '403', '429']));
  });
});

describe('rate limit per IP', () => {
  it(`answers 429 after ${policies.twilio_webhook_ip.limit} callbacks a minute from one address, others unaffected`, async () => {
    const ip = randomIp();
    const params = deliveredParams();
    // Most of the allowance used up directly on the limiter (the same counter the route uses).
    for (let i = 0; i < policies.twilio_webhook_ip.limit - 2; i++) await t.app.verity.limiter.hit('twilio_webhook_ip', ip);
    for (let i = 0; i < 2; i++) {
      const res = await postSigned(t.app, callbackUrl, params, { authToken: fake.authToken, remoteAddress: ip });
      expect(res.statusCode).toBe(204);
    }
    const limited = await postSigned(t.app, callbackUrl, params, { authToken: fake.authToken, remoteAddress: ip });
    expect(limited.statusCode).toBe(429);
    expect(problem(limited).code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    expect((await postSigned(t.app, callbackUrl, params, { authToken: fake.authToken, remoteAddress: randomIp() })).statusCode).toBe(204);
    t.clock.advanceSeconds(policies.twilio_webhook_ip.windowSeconds);
    expect((await postSigned(t.app, callbackUrl, params, { authToken: fake.authToken, remoteAddress: ip })).statusCode).toBe(204);
  });
});

describe('our signature agrees with the official Twilio library', () => {
  const cases: Array<[string, Record<string, string | string[]>]> = [
    ['https://verity.example/v1/webhooks/sms/twilio?message=abc', { MessageSid: 'SM1', MessageStatus: 'sent', To: '+15550001111' }],
    ['https://verity.example/v1/webhooks/sms/twilio', {}],
    ['http://localhost:3000/v1/webhooks/sms/twilio', { Body: 'héllo wörld ✓ & = + %', a: '', Z: 'upper sorts first' }],
    ['https://verity.example/x', { StatusCallbackEvent: ['ringing', 'answered', 'ringing', 'initiated'], CallSid: 'CA1' }],
  ];
  for (const [url, params] of cases) {
    it(`${url} with ${Object.keys(params).length} parameters`, () => {
      const token = randomBytes(16).toString('hex');
      const official = getExpectedTwilioSignature(token, url, params);
      expect(twilioSignature(token, url, params)).toBe(official);
      expect(isValidTwilioSignature(token, official, url, params)).toBe(true);
      expect(isValidTwilioSignature(token, official, url + 'x', params)).toBe(false);
      expect(isValidTwilioSignature('other', official, url, params)).toBe(false);
    });
  }
});
