import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTransports } from '../../src/platform/messaging/transports/index.js';
import { messageTag, tagBody } from '../../src/platform/twilio/earlier-handoff.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { FakeTwilio, outboxRow, queuePhoneMessage } from '../helpers/fake-twilio.js';

let fake: FakeTwilio;
let t: TestApp;
beforeAll(async () => {
  fake = await FakeTwilio.start();
  t = await createTestApp({ env: fake.env({ PUBLIC_URL: 'https://verity.example' }) });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const basicAuth = () => 'Basic ' + Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64');

describe('SMS hand-off to Twilio Messages', () => {
  it('posts To, From, Body with its reference and a status callback with Basic auth, and no idempotency header', async () => {
    const id = await queuePhoneMessage(t.db, t.clock, 'sms', '+447700900123', 'Your Verity code is 123456');
    await t.app.verity.outbox.drain();

    const [request, ...others] = fake.requestsTo('Messages.json');
    expect(others).toHaveLength(0);
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(request!.headers.authorization).toBe(basicAuth());
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    // Twilio's REST API ignores I-Twilio-Idempotency-Token (it is a header of its own webhooks).
    expect(request!.headers['i-twilio-idempotency-token']).toBeUndefined();
    expect(messageTag(id)).toMatch(/^Ref [B-Z]{8}$/);
    expect(Object.fromEntries(request!.form)).toEqual({
      To: '+447700900123',
      From: fake.from,
      Body: `Your Verity code is 123456\n${messageTag(id)}`,
      StatusCallback: `https://verity.example/v1/webhooks/sms/twilio?message=${id}`,
    });

    expect(fake.messages).toHaveLength(1);
    const row = await outboxRow(t.db, id);
    expect(row.status).toBe('sent');
    expect(row.provider_id).toBe(fake.messages.at(-1)!.sid);
    expect(row.provider_id).toMatch(/^SM[0-9a-f]{32}$/);
  });
});

describe('the reference an SMS carries', () => {
  it('goes before the closing WebOTP line, which stays last, and differs between messages', () => {
    const text = 'Your Verity code is 123456. It expires in 10 minutes.\n\n@verity.example #123456';
    const tag = messageTag('0b7c9c52-3f7e-4a43-9d52-6c1e1c1e2f01');
    expect(tagBody(text, tag)).toBe(`Your Verity code is 123456. It expires in 10 minutes.\n${tag}\n\n@verity.example #123456`);
    expect(tag).not.toBe(messageTag('0b7c9c52-3f7e-4a43-9d52-6c1e1c1e2f02'));
    expect(tag).not.toMatch(/\d/);
  });
});

describe('voice hand-off to Twilio Calls', () => {
  it('posts a call whose TwiML says the message, XML-escaped, with call progress callbacks', async () => {
    const text = 'Your code is 1 2 3. <Play>http://evil</Play> & "more"';
    const id = await queuePhoneMessage(t.db, t.clock, 'voice', '+15551234567', text);
    await t.app.verity.outbox.drain();

    const [request, ...others] = fake.requestsTo('Calls.json');
    expect(others).toHaveLength(0);
    expect(request!.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Calls.json`);
    expect(request!.headers.authorization).toBe(basicAuth());
    expect(request!.headers['i-twilio-idempotency-token']).toBeUndefined();
    expect(request!.form.get('To')).toBe('+15551234567');
    expect(request!.form.get('From')).toBe(fake.from);
    expect(request!.form.get('Twiml')).toBe(
      '<Response><Say>Your code is 1 2 3. &lt;Play&gt;http://evil&lt;/Play&gt; &amp; &quot;more&quot;</Say></Response>',
    );
    expect(request!.form.get('StatusCallback')).toBe(`https://verity.example/v1/webhooks/sms/twilio?message=${id}`);
    expect(request!.form.getAll('StatusCallbackEvent')).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(request!.form.has('Body')).toBe(false);

    const row = await outboxRow(t.db, id);
    expect(row.status).toBe('sent');
    expect(row.provider_id).toBe(fake.calls.at(-1)!.sid);
    expect(row.provider_id).toMatch(/^CA[0-9a-f]{32}$/);
  });

  it('sends SMS and calls to their own resources when both are queued', async () => {
    const before = { messages: fake.messages.length, calls: fake.calls.length };
    await queuePhoneMessage(t.db, t.clock, 'sms', '+15551230001', 'one');
    await queuePhoneMessage(t.db, t.clock, 'voice', '+15551230002', 'two');
    await t.app.verity.outbox.drain();
    expect(fake.messages.length - before.messages).toBe(1);
    expect(fake.calls.length - before.calls).toBe(1);
    expect(fake.messages.at(-1)!.form.get('To')).toBe('+15551230001');
    expect(fake.calls.at(-1)!.form.get('To')).toBe('+15551230002');
  });
});

describe('wiring', () => {
  it('the server picks Twilio for both phone channels when SMS_TRANSPORT=twilio, e-mail unchanged', () => {
    const transports = createTransports(t.config, t.db, t.clock);
    expect(transports.sms.name).toBe('twilio');
    expect(transports.voice.name).toBe('twilio');
    expect(transports.email.name).toBe('outbox');
  });

  it('keeps the development outbox for phone channels by default', async () => {
    const plain = await createTestApp({ database: t.database });
    try {
      const transports = createTransports(plain.config, plain.db, plain.clock);
      expect(transports.sms.name).toBe('outbox');
      expect(transports.voice.name).toBe('outbox');
    } finally {
      await plain.close();
    }
  });

  it('an e-mail routed to the Twilio transport by mistake is refused for good, not sent', async () => {
    const transports = createTransports(t.config, t.db, t.clock);
    await expect(transports.sms.send({ id: 'x', channel: 'email', to: 'a@example.com', subject: 's', text: 't', html: null })).rejects.toMatchObject({
      permanent: true,
    });
    expect(fake.requests).toHaveLength(0);
  });
});
