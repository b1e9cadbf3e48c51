import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deliveryReport } from '../../src/platform/messaging/delivery.js';
import { backoffSeconds, delivery } from '../../src/platform/messaging/outbox.js';
import { TransportError } from '../../src/platform/messaging/transport.js';
import { createTwilioTransport } from '../../src/platform/messaging/transports/twilio.js';
import { loadConfig } from '../../src/platform/config.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { FakeTwilio, outboxRow, queuePhoneMessage, type Failure } from '../helpers/fake-twilio.js';

const TIMEOUT_MS = 1500;
let fake: FakeTwilio;
let t: TestApp;
beforeAll(async () => {
  fake = await FakeTwilio.start();
  t = await createTestApp({
    env: fake.env(),
    // The real transport with a short timeout, so a hanging Twilio costs 1.5 s, not 10 s.
    transports: (db, clock, config) => {
      const twilio = createTwilioTransport(config, db, clock, { timeoutMs: TIMEOUT_MS });
      return { sms: twilio, voice: twilio };
    },
  });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const run = () => t.app.verity.outbox.runOnce();
const resourcesFor = (to: string) => [...fake.messages, ...fake.calls].filter((r) => r.form.get('To') === to);
let n = 0;
const newNumber = () => `+1555987${String(1000 + ++n).slice(-4)}`;

// Failures that certainly sent nothing. Those that leave the outcome unknown (timeouts, lost
// answers, most 5xx) are looked up before a retry: test/twilio/at-most-once.test.ts.
describe('retryable failures are retried with backoff, and never sent twice', () => {
  const cases: Array<[Failure, 'sms' | 'voice']> = [
    [503, 'sms'],
    [429, 'sms'],
    [503, 'voice'],
    [429, 'voice'],
  ];
  for (const [failure, channel] of cases) {
    it(`${failure} on ${channel}: queued again for ${backoffSeconds(1)} s, then sent once`, async () => {
      const to = newNumber();
      const id = await queuePhoneMessage(t.db, t.clock, channel, to, 'code 111111');
      fake.failNext(1, failure);
      await run();

      const failed = await outboxRow(t.db, id);
      expect(failed).toMatchObject({ status: 'queued', attempts: 1, provider_id: null });
      expect(failed.last_error).toMatch(new RegExp(`^twilio error \\d+: .*HTTP ${failure}`));
      expect(failed.next_attempt_at.getTime() - t.clock.now().getTime()).toBe(backoffSeconds(1) * 1000);
      expect(resourcesFor(to)).toHaveLength(0);

      // Not before the backoff has passed.
      t.clock.advanceSeconds(backoffSeconds(1) - 1);
      await run();
      expect(await outboxRow(t.db, id)).toMatchObject({ status: 'queued', attempts: 1 });
      t.clock.advanceSeconds(1);
      await run();

      const sent = await outboxRow(t.db, id);
      expect(sent).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
      expect(resourcesFor(to)).toHaveLength(1);
      expect(sent.provider_id).toBe(resourcesFor(to)[0]!.sid);
      // Certainly not sent: no lookup before the retry, and no idempotency header (Twilio ignores it).
      expect(fake.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
      expect(fake.requests.filter((r) => r.form.get('To') === to).map((r) => r.headers['i-twilio-idempotency-token'])).toEqual([undefined, undefined]);
    });
  }

  it('a timeout leaves the outcome unknown: the retry waits, looks Twilio up, and then sends once', async () => {
    const to = newNumber();
    const id = await queuePhoneMessage(t.db, t.clock, 'voice', to, 'code 222222');
    fake.failNext(1, 'hang');
    await run();
    const failed = await outboxRow(t.db, id);
    expect(failed.last_error).toMatch(/^outcome unknown: .*no answer within 1500 ms/);
    expect(failed.next_attempt_at.getTime() - t.clock.now().getTime()).toBe(delivery.uncertainRetrySeconds * 1000);
    t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
    await run();
    expect(fake.requestsTo('Calls.json').map((r) => r.method)).toEqual(['POST', 'GET', 'POST']);
    expect(resourcesFor(to)).toHaveLength(1);
    expect((await outboxRow(t.db, id)).status).toBe('sent');
  });

  it('backs off 2, 4, 8 s across repeated failures', async () => {
    const id = await queuePhoneMessage(t.db, t.clock, 'sms', newNumber(), 'code 333333');
    fake.failNext(3, 503);
    for (const attempt of [1, 2, 3]) {
      await run();
      const row = await outboxRow(t.db, id);
      expect(row.attempts).toBe(attempt);
      expect(row.next_attempt_at.getTime() - t.clock.now().getTime()).toBe(2 ** attempt * 1000);
      t.clock.advanceSeconds(2 ** attempt);
    }
    await run();
    expect((await outboxRow(t.db, id)).status).toBe('sent');
  });

  it('gives up after the outbox maximum of attempts, having sent nothing', async () => {
    const to = newNumber();
    const id = await queuePhoneMessage(t.db, t.clock, 'sms', to, 'code 444444');
    fake.failNext(delivery.maxAttempts, 503);
    for (let attempt = 1; attempt <= delivery.maxAttempts; attempt++) {
      expect(await outboxRow(t.db, id)).toMatchObject({ status: 'queued', attempts: attempt - 1 });
      await run();
      t.clock.advanceSeconds(backoffSeconds(attempt));
    }
    await run();
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'abandoned', attempts: delivery.maxAttempts });
    expect(resourcesFor(to)).toHaveLength(0);
    expect((await deliveryReport(t.db, id))?.status).toBe('failed');
  });
});

describe('permanent refusals are not retried', () => {
  const refusals: Array<[string, Failure, { code: number; message: string } | undefined, string]> = [
    ['invalid number', 400, undefined, '21211'],
    ['unsubscribed recipient', 400, { code: 21610, message: 'Attempt to send to unsubscribed recipient' }, '21610'],
    ['wrong credentials', 401, undefined, '20003'],
  ];
  for (const [what, failure, error, code] of refusals) {
    it(`${what} (${code}): abandoned after one attempt, with Twilio's error code in the delivery report`, async () => {
      const to = newNumber();
      const id = await queuePhoneMessage(t.db, t.clock, 'sms', to, 'code 555555');
      fake.failNext(1, failure, error);
      await run();
      const row = await outboxRow(t.db, id);
      expect(row).toMatchObject({ status: 'abandoned', attempts: 1 });
      expect(row.last_error).toContain(`twilio error ${code}`);

      t.clock.advanceSeconds(3600);
      await run();
      expect(await outboxRow(t.db, id)).toMatchObject({ status: 'abandoned', attempts: 1 });
      expect(fake.requests.filter((r) => r.form.get('To') === to)).toHaveLength(1);
      expect(resourcesFor(to)).toHaveLength(0);
      expect(await deliveryReport(t.db, id)).toEqual({ status: 'failed', errorCode: code, updatedAt: expect.any(Date) });
    });
  }

  it('a number Twilio itself rejects (the fake validates To) is abandoned too', async () => {
    const id = await queuePhoneMessage(t.db, t.clock, 'voice', '12345', 'code 666666');
    await run();
    expect((await outboxRow(t.db, id)).status).toBe('abandoned');
    expect((await deliveryReport(t.db, id))?.errorCode).toBe('21211');
  });
});

describe('network failures', () => {
  it('an unreachable Twilio is a retryable failure', async () => {
    const closed = await FakeTwilio.start();
    const url = closed.url;
    await closed.close();
    const config = loadConfig({ ...fake.env({ TWILIO_BASE_URL: url }), SECRET_KEY: 'x'.repeat(32) });
    const transport = createTwilioTransport(config, t.db, t.clock, { timeoutMs: TIMEOUT_MS });
    const error = await transport.send({ id: '00000000-0000-4000-8000-000000000001', channel: 'sms', to: '+15550001111', subject: null, text: 'hi', html: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).permanent).toBe(false);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    // Refused before a byte was sent: certainly not at Twilio, so no lookup is needed.
    expect((error as TransportError).uncertain).toBe(false);
  });
});
