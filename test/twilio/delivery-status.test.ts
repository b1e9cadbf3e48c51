import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryReport } from '../../src/platform/messaging/delivery.js';
import { backoffSeconds, delivery } from '../../src/platform/messaging/outbox.js';
import { createTwilioTransport } from '../../src/platform/messaging/transports/twilio.js';
import { countRows, createTestApp, type TestApp } from '../helpers/app.js';
import { FakeTwilio, outboxRow, postSigned, queuePhoneMessage } from '../helpers/fake-twilio.js';

const PUBLIC = 'https://verity.example';
const PLAIN_URL = `${PUBLIC}/v1/webhooks/sms/twilio`;
let fake: FakeTwilio;
let t: TestApp;
beforeAll(async () => {
  fake = await FakeTwilio.start();
  t = await createTestApp({
    env: fake.env({ PUBLIC_URL: PUBLIC }),
    transports: (db, clock, config) => {
      const twilio = createTwilioTransport(config, db, clock, { timeoutMs: 1500 });
      return { sms: twilio, voice: twilio };
    },
  });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

let n = 0;
/** Queues and hands off one message; returns its outbox id and Twilio SID. */
async function handedOff(channel: 'sms' | 'voice' = 'sms') {
  const id = await queuePhoneMessage(t.db, t.clock, channel, `+1555444${String(1000 + ++n).slice(-4)}`, 'code 123456');
  await t.app.verity.outbox.drain();
  const row = await outboxRow(t.db, id);
  expect(row.status).toBe('sent');
  return { id, sid: row.provider_id! };
}

async function status(sid: string, twilioStatus: string, extra: Record<string, string> = {}) {
  const res = await fake.sendStatus(t.app, sid, twilioStatus, { extra });
  expect(res.statusCode).toBe(204);
  expect(res.body).toBe('');
}

describe('SMS status callbacks', () => {
  it('records each status in turn: sent, then delivered', async () => {
    const { id, sid } = await handedOff();
    expect(await deliveryReport(t.db, id)).toMatchObject({ status: 'sent', errorCode: null });

    t.clock.advanceSeconds(1);
    await status(sid, 'sent');
    expect(await deliveryReport(t.db, id)).toEqual({ status: 'sent', updatedAt: t.clock.now(), errorCode: null });

    t.clock.advanceSeconds(2);
    await status(sid, 'delivered');
    expect(await deliveryReport(t.db, id)).toEqual({ status: 'delivered', updatedAt: t.clock.now(), errorCode: null });
  });

  it("keeps Twilio's error code for an undelivered or failed message", async () => {
    const { id, sid } = await handedOff();
    await status(sid, 'undelivered', { ErrorCode: '30003' });
    expect(await deliveryReport(t.db, id)).toMatchObject({ status: 'undelivered', errorCode: '30003' });

    const other = await handedOff();
    await status(other.sid, 'failed', { ErrorCode: '30008' });
    expect(await deliveryReport(t.db, other.id)).toMatchObject({ status: 'failed', errorCode: '30008' });
  });

  it('maps every Twilio message status', async () => {
    const expected: Record<string, string> = {
      accepted: 'queued',
      queued: 'queued',
      sending: 'sent',
      sent: 'sent',
      delivered: 'delivered',
      undelivered: 'undelivered',
      failed: 'failed',
    };
    for (const [twilioStatus, ours] of Object.entries(expected)) {
      const { id, sid } = await handedOff();
      await status(sid, twilioStatus);
      expect((await deliveryReport(t.db, id))?.status, twilioStatus).toBe(ours);
    }
  });

  it('ignores a late callback that would move a final status backwards', async () => {
    const { id, sid } = await handedOff();
    await status(sid, 'delivered');
    const delivered = await deliveryReport(t.db, id);
    t.clock.advanceSeconds(5);
    await status(sid, 'sent');
    await status(sid, 'queued');
    expect(await deliveryReport(t.db, id)).toEqual(delivered);

    const other = await handedOff();
    await status(other.sid, 'undelivered', { ErrorCode: '30005' });
    await status(other.sid, 'sending');
    expect(await deliveryReport(t.db, other.id)).toMatchObject({ status: 'undelivered', errorCode: '30005' });
  });

  it('a repeated callback changes nothing; a later, different final word from the carrier wins', async () => {
    const { id, sid } = await handedOff();
    await status(sid, 'undelivered', { ErrorCode: '30003' });
    const first = await deliveryReport(t.db, id);
    t.clock.advanceSeconds(10);
    await status(sid, 'undelivered', { ErrorCode: '30003' });
    expect(await deliveryReport(t.db, id)).toEqual(first);

    await status(sid, 'delivered');
    expect(await deliveryReport(t.db, id)).toEqual({ status: 'delivered', updatedAt: t.clock.now(), errorCode: null });
  });

  it('records a status that arrives before the outbox has stored the SID (the answer to the hand-off was lost)', async () => {
    const id = await queuePhoneMessage(t.db, t.clock, 'sms', '+15554440999', 'code 999999');
    fake.failNext(1, 'accept-then-hang');
    await t.app.verity.outbox.runOnce();
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'queued', provider_id: null });
    const sid = fake.messages.at(-1)!.sid;

    await status(sid, 'sent');
    expect(await deliveryReport(t.db, id)).toMatchObject({ status: 'sent' });

    // The retry finds the SID the callback recorded, and sends nothing again.
    t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
    await t.app.verity.outbox.runOnce();
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', provider_id: sid });
    expect(fake.messages.filter((m) => m.form.get('To') === '+15554440999')).toHaveLength(1);
    await status(sid, 'delivered');
    expect(await deliveryReport(t.db, id)).toMatchObject({ status: 'delivered' });
  });

  it('finds the message by its SID when the callback URL does not name it (a callback set in the Twilio console)', async () => {
    const { id, sid } = await handedOff();
    const res = await postSigned(t.app, PLAIN_URL, fake.callbackParams(sid, 'delivered'), { authToken: fake.authToken });
    expect(res.statusCode).toBe(204);
    expect((await deliveryReport(t.db, id))?.status).toBe('delivered');
  });
});

describe('call status callbacks', () => {
  it('maps call progress: ringing and in progress are sent, completed is delivered', async () => {
    const { id, sid } = await handedOff('voice');
    for (const progress of ['initiated', 'ringing', 'in-progress']) {
      await status(sid, progress);
      expect((await deliveryReport(t.db, id))?.status, progress).toBe('sent');
    }
    await status(sid, 'completed');
    expect((await deliveryReport(t.db, id))?.status).toBe('delivered');
    await status(sid, 'ringing');
    expect((await deliveryReport(t.db, id))?.status).toBe('delivered');
  });

  it('busy and unanswered calls are undelivered; failed and canceled calls failed', async () => {
    const expected: Record<string, string> = { busy: 'undelivered', 'no-answer': 'undelivered', failed: 'failed', canceled: 'failed', queued: 'sent' };
    for (const [callStatus, ours] of Object.entries(expected)) {
      const { id, sid } = await handedOff('voice');
      await status(sid, callStatus);
      expect((await deliveryReport(t.db, id))?.status, callStatus).toBe(ours);
    }
  });
});

describe('callbacks that change nothing (answered 204, so nothing leaks)', () => {
  it('an unknown SID', async () => {
    const before = await countRows(t.db, 'message_deliveries');
    const params = { AccountSid: fake.accountSid, MessageSid: 'SM' + 'a'.repeat(32), MessageStatus: 'delivered' };
    const res = await postSigned(t.app, PLAIN_URL, params, { authToken: fake.authToken });
    expect(res.statusCode).toBe(204);
    expect(await countRows(t.db, 'message_deliveries')).toBe(before);
  });

  it('an unknown, malformed or non-phone message id in the URL', async () => {
    const { sid } = await handedOff();
    const email = await t.db
      .insertInto('outbox')
      .values({ channel: 'email', recipient: 'a@example.com', template: 'x', subject: 's', body_text: 'b', body_html: null, next_attempt_at: t.clock.now(), created_at: t.clock.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const before = await countRows(t.db, 'message_deliveries');
    for (const message of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', 'x OR 1=1', email.id]) {
      const res = await postSigned(t.app, `${PLAIN_URL}?message=${encodeURIComponent(message)}`, fake.callbackParams(sid, 'delivered'), { authToken: fake.authToken });
      expect(res.statusCode, message).toBe(204);
    }
    expect(await countRows(t.db, 'message_deliveries')).toBe(before);
    expect(await deliveryReport(t.db, email.id)).toMatchObject({ status: 'queued' });
  });

  it('a status Verity does not track, or a callback without a SID', async () => {
    const { id, sid } = await handedOff();
    const before = await countRows(t.db, 'message_deliveries');
    expect((await fake.sendStatus(t.app, sid, 'receiving')).statusCode).toBe(204);
    const url = fake.resource(sid).form.get('StatusCallback')!;
    expect((await postSigned(t.app, url, { AccountSid: fake.accountSid, MessageStatus: 'delivered' }, { authToken: fake.authToken })).statusCode).toBe(204);
    expect(await countRows(t.db, 'message_deliveries')).toBe(before);
    expect((await deliveryReport(t.db, id))?.status).toBe('sent');
  });
});

describe('deliveryReport without a provider word', () => {
  it('is derived from the outbox: queued, being handed over, sent, given up', async () => {
    const createdAt = t.clock.now();
    const id = await queuePhoneMessage(t.db, t.clock, 'sms', '+15554441234', 'x');
    expect(await deliveryReport(t.db, id)).toEqual({ status: 'queued', updatedAt: createdAt, errorCode: null });

    await t.db.updateTable('outbox').set({ status: 'processing' }).where('id', '=', id).execute();
    expect((await deliveryReport(t.db, id))?.status).toBe('queued');

    t.clock.advanceSeconds(3);
    await t.db.updateTable('outbox').set({ status: 'queued' }).where('id', '=', id).execute();
    await t.app.verity.outbox.runOnce();
    expect(await deliveryReport(t.db, id)).toEqual({ status: 'sent', updatedAt: t.clock.now(), errorCode: null });
  });

  it('a message the outbox gave up on is failed, as of the moment it gave up', async () => {
    const id = await queuePhoneMessage(t.db, t.clock, 'sms', '+15554441235', 'x');
    fake.failNext(1, 503);
    await t.app.verity.outbox.runOnce();
    t.clock.advanceSeconds(backoffSeconds(1));
    // Pretend this was the last allowed attempt: the outbox abandons it on this failure.
    await t.db.updateTable('outbox').set({ attempts: 7 }).where('id', '=', id).execute();
    fake.failNext(1, 503);
    const gaveUpAt = t.clock.now();
    await t.app.verity.outbox.runOnce();
    expect((await outboxRow(t.db, id)).status).toBe('abandoned');
    expect(await deliveryReport(t.db, id)).toEqual({ status: 'failed', updatedAt: gaveUpAt, errorCode: null });
  });

  it('is null for a message that does not exist', async () => {
    expect(await deliveryReport(t.db, '00000000-0000-4000-8000-00000000abcd')).toBeNull();
    expect(await deliveryReport(t.db, 'nonsense')).toBeNull();
  });
});
