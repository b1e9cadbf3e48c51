import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LookupUnavailableError } from '../../src/phone/lookup.js';
import { loadConfig } from '../../src/platform/config.js';
import { createTwilioLookup } from '../../src/platform/twilio/lookup.js';
import { createTestApp, problem, signUp, type TestApp } from '../helpers/app.js';
import { FakeTwilio, type Failure } from '../helpers/fake-twilio.js';
import { startPhone } from '../phone/helpers.js';

let fake: FakeTwilio;
beforeAll(async () => {
  fake = await FakeTwilio.start();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => fake.reset());

const configFor = (env: Record<string, string> = {}) => loadConfig({ ...fake.env({ SMS_TRANSPORT: 'outbox', PHONE_LOOKUP: 'twilio' }), ...env });
const lookup = (env: Record<string, string> = {}) => createTwilioLookup(configFor(env), { timeoutMs: 1500 });

describe('Twilio Lookup v2 line type', () => {
  it('asks GET /v2/PhoneNumbers/{number}?Fields=line_type_intelligence with Basic auth', async () => {
    fake.lineTypes.set('+447700900123', { type: 'mobile', carrierName: 'EE' });
    expect(await lookup().lineType('+447700900123')).toEqual({ lineType: 'mobile', carrierName: 'EE' });
    const [request, ...others] = fake.requests;
    expect(others).toHaveLength(0);
    expect(request!.method).toBe('GET');
    expect(request!.path).toBe('/v2/PhoneNumbers/+447700900123');
    expect(request!.query.get('Fields')).toBe('line_type_intelligence');
    expect(request!.headers.authorization).toBe('Basic ' + Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64'));
  });

  it("returns Twilio's type as reported: VoIP, landline, toll-free…", async () => {
    for (const [number, type, carrierName] of [
      ['+15551110001', 'nonFixedVoip', 'Google (Grand Central) - SVR'],
      ['+15551110002', 'fixedVoip', 'Vonage'],
      ['+15551110003', 'landline', 'AT&T'],
      ['+18005550100', 'tollFree', null],
    ] as const) {
      fake.lineTypes.set(number, { type, carrierName });
      expect(await lookup().lineType(number)).toEqual({ lineType: type, carrierName });
    }
  });

  it('answers null when Twilio has no line type for the number', async () => {
    fake.lineTypes.set('+15551110009', { type: null, carrierName: null });
    expect(await lookup().lineType('+15551110009')).toEqual({ lineType: null, carrierName: null });
    // An invalid number: Twilio answers valid: false and no line type intelligence.
    expect(await lookup().lineType('+1')).toEqual({ lineType: null, carrierName: null });
    // A number Twilio refuses to look up (400) is an answer too, not an outage.
    fake.failNext(1, 400, { code: 60200, message: 'Invalid parameter' });
    expect(await lookup().lineType('+15551110008')).toEqual({ lineType: null, carrierName: null });
  });

  it('uses https://lookups.twilio.com by default and the REST host for messages; TWILIO_BASE_URL moves both', () => {
    const defaults = loadConfig({ SMS_TRANSPORT: 'twilio', PHONE_LOOKUP: 'twilio', TWILIO_ACCOUNT_SID: 'AC123', TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15005550006' });
    expect(defaults.twilio.baseUrl).toBe('https://api.twilio.com');
    expect(defaults.twilio.lookupBaseUrl).toBe('https://lookups.twilio.com');
    expect(configFor().twilio.lookupBaseUrl).toBe(fake.url);
    expect(configFor().twilio.baseUrl).toBe(fake.url);
  });

  it('takes its own host from TWILIO_LOOKUP_BASE_URL, which wins over TWILIO_BASE_URL', () => {
    const own = configFor({ TWILIO_LOOKUP_BASE_URL: 'https://lookup.proxy.example/' });
    expect(own.twilio.lookupBaseUrl).toBe('https://lookup.proxy.example');
    expect(own.twilio.baseUrl).toBe(fake.url);
    const alone = loadConfig({ PHONE_LOOKUP: 'twilio', TWILIO_ACCOUNT_SID: 'AC123', TWILIO_AUTH_TOKEN: 't', TWILIO_LOOKUP_BASE_URL: 'http://127.0.0.1:4011' });
    expect(alone.twilio).toMatchObject({ baseUrl: 'https://api.twilio.com', lookupBaseUrl: 'http://127.0.0.1:4011' });
  });
});

describe('an outage is LookupUnavailableError, never a guess', () => {
  const outages: Failure[] = [500, 503, 429, 401, 'hang'];
  for (const failure of outages) {
    it(`Twilio answering ${failure}`, async () => {
      fake.failNext(1, failure);
      const error = await lookup().lineType('+15551110010').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LookupUnavailableError);
      expect((error as Error).message).not.toContain(fake.authToken);
      // The next lookup works again.
      expect(await lookup().lineType('+15551110010')).toEqual({ lineType: 'mobile', carrierName: 'Fake Mobile' });
    });
  }

  it('Twilio unreachable', async () => {
    const gone = await FakeTwilio.start();
    const url = gone.url;
    await gone.close();
    await expect(lookup({ TWILIO_BASE_URL: url }).lineType('+15551110011')).rejects.toBeInstanceOf(LookupUnavailableError);
  });

  it('Twilio answering something that is not JSON', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.end('<html>gateway</html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      await expect(lookup({ TWILIO_BASE_URL: `http://127.0.0.1:${port}` }).lineType('+15551110012')).rejects.toBeInstanceOf(LookupUnavailableError);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('POST /v1/me/phone with PHONE_LOOKUP=twilio, wired as the server wires it', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Codes go to the development outbox; only Lookup talks to the fake, on its own base URL.
    t = await createTestApp({
      env: { PHONE_LOOKUP: 'twilio', TWILIO_ACCOUNT_SID: fake.accountSid, TWILIO_AUTH_TOKEN: fake.authToken, TWILIO_LOOKUP_BASE_URL: fake.url },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const unavailable = async () => {
    const metric = await t.app.verity.metrics.registry.getSingleMetric('verity_phone_lookup_total')?.get();
    return metric?.values.find((v) => v.labels.result === 'unavailable')?.value ?? 0;
  };

  it('refuses a number Twilio calls VoIP though the plan says mobile, and calls one it calls a landline', async () => {
    fake.lineTypes.set('+639175551001', { type: 'nonFixedVoip', carrierName: 'Some VoIP' });
    const voip = await startPhone(t, await signUp(t), { phone: '+639175551001' });
    expect(voip.statusCode).toBe(422);
    expect(problem(voip)).toMatchObject({ code: 'phone_voip', detail: "We can't verify VoIP numbers; please use a different, non-VoIP number." });
    expect(fake.requestsTo('/v2/PhoneNumbers').map((r) => r.path)).toEqual(['/v2/PhoneNumbers/+639175551001']);

    fake.lineTypes.set('+12015550188', { type: 'landline', carrierName: 'Verizon' });
    const landline = await startPhone(t, await signUp(t), { phone: '+12015550188' });
    expect(landline.statusCode).toBe(202);
    expect(landline.json().verification).toMatchObject({ channel: 'voice', notice: expect.stringMatching(/landline/) });
  });

  for (const failure of [503, 500, 429, 401] as const) {
    it(`fails open when Lookup answers ${failure}: the numbering plan decides, nothing is cached, the outage is counted`, async () => {
      const e164 = `+63917555${String(2000 + failure)}`;
      fake.lineTypes.set(e164, { type: 'fixedVoip', carrierName: null });
      const before = await unavailable();
      fake.failNext(1, failure);
      const res = await startPhone(t, await signUp(t), { phone: e164 });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json().verification.channel).toBe('sms');
      expect(await unavailable()).toBe(before + 1);
      expect(await t.db.selectFrom('phone_lookups').select('e164').where('e164', '=', e164).executeTakeFirst()).toBeUndefined();
      // Lookup back: the next member with that number is asked about again, and refused.
      t.clock.advanceSeconds(31);
      const again = await startPhone(t, await signUp(t), { phone: e164 });
      expect(problem(again).code).toBe('phone_voip');
    });
  }
});
