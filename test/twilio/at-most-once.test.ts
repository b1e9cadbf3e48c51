import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { delivery, OUTCOME_UNKNOWN } from '../../src/platform/messaging/outbox.js';
import { recordDelivery } from '../../src/platform/messaging/delivery.js';
import { createTwilioTransport } from '../../src/platform/messaging/transports/twilio.js';
import { messageTag } from '../../src/platform/twilio/earlier-handoff.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { FakeTwilio, outboxRow, queuePhoneMessage, type Failure } from '../helpers/fake-twilio.js';

// Twilio does not dedupe creates. A hand-off whose answer was lost is looked up in Twilio's
// Messages (or Calls) list before it is retried, so a code goes out at most once.
const TIMEOUT_MS = 500;
let fake: FakeTwilio;
let t: TestApp;
beforeAll(async () => {
  fake = await FakeTwilio.start();
  t = await createTestApp({
    env: fake.env(),
    transports: (db, clock, config) => {
      const twilio = createTwilioTransport(config, db, clock, { timeoutMs: TIMEOUT_MS });
      return { sms: twilio, voice: twilio };
    },
  });
  fake.clock = t.clock;
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  fake.trial = false;
});

const run = () => t.app.verity.outbox.runOnce();
let n = 0;
const newNumber = () => `+1555321${String(1000 + ++n).slice(-4)}`;
const messagesTo = (to: string) => fake.messages.filter((m) => m.form.get('To') === to);
const callsTo = (to: string) => fake.calls.filter((c) => c.form.get('To') === to);
const posts = (resource: 'Messages.json' | 'Calls.json', to: string) => fake.requestsTo(resource).filter((r) => r.method === 'POST' && r.form.get('To') === to);
const lists = (resource: 'Messages.json' | 'Calls.json') => fake.requestsTo(resource).filter((r) => r.method === 'GET');
const secondsUntilRetry = async (id: string) => ((await outboxRow(t.db, id)).next_attempt_at.getTime() - t.clock.now().getTime()) / 1000;

/** A first attempt that fails this way; returns the row, now waiting for its lookup. */
async function firstAttempt(channel: 'sms' | 'voice', failure: Failure | 'down', to = newNumber()) {
  const id = await queuePhoneMessage(t.db, t.clock, channel, to, 'Your Verity code is 123456.');
  if (failure === 'down') await fake.down();
  else fake.failNext(1, failure);
  try {
    await run();
  } finally {
    if (failure === 'down') await fake.up();
  }
  return { id, to };
}

describe('an SMS whose answer was lost is looked up, not sent again', () => {
  const accepted: Failure[] = ['accept-then-drop', 'accept-then-hang', 'accept-then-500'];
  for (const failure of accepted) {
    it(`${failure}: Twilio has the message; the retry finds it by its reference and sends nothing`, async () => {
      const { id, to } = await firstAttempt('sms', failure);
      const waiting = await outboxRow(t.db, id);
      expect(waiting).toMatchObject({ status: 'queued', attempts: 1, provider_id: null });
      expect(waiting.last_error?.startsWith(OUTCOME_UNKNOWN)).toBe(true);
      expect(await secondsUntilRetry(id)).toBe(delivery.uncertainRetrySeconds);
      const [copy, ...more] = messagesTo(to);
      expect(more).toHaveLength(0);
      expect(copy!.json.body).toContain(messageTag(id));

      // Twilio sends it meanwhile (date_sent is set, so DateSent filters see it).
      fake.setStatus(copy!.sid, 'sent');
      t.clock.advanceSeconds(delivery.uncertainRetrySeconds - 1);
      await run();
      expect(lists('Messages.json')).toHaveLength(0);
      t.clock.advanceSeconds(1);
      await run();

      const [lookup, ...again] = lists('Messages.json');
      expect(again).toHaveLength(0);
      expect(lookup!.query.get('To')).toBe(to);
      expect(lookup!.query.get('From')).toBe(fake.from);
      expect(lookup!.query.get('DateSent>')).toBe(t.clock.now().toISOString().slice(0, 10));
      expect(posts('Messages.json', to)).toHaveLength(1);
      expect(messagesTo(to)).toHaveLength(1);
      expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', attempts: 2, provider_id: copy!.sid, last_error: null });
    });
  }

  it('finds the copy behind the trial-account prefix Twilio puts in listed bodies', async () => {
    fake.trial = true;
    const { id, to } = await firstAttempt('sms', 'accept-then-drop');
    fake.setStatus(messagesTo(to)[0]!.sid, 'delivered');
    t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
    await run();
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', provider_id: messagesTo(to)[0]!.sid });
    expect(messagesTo(to)).toHaveLength(1);
  });

  it('pages through the list to the copy, past other messages to the same number', async () => {
    const { id, to } = await firstAttempt('sms', 'accept-then-drop');
    fake.setStatus(messagesTo(to)[0]!.sid, 'sent');
    // 150 later texts to that number (newest first in the list), each with its own reference.
    for (let i = 0; i < 150; i++) {
      t.clock.advance(100); // sent later, yet before our copy's lookup is due
      const other = await queuePhoneMessage(t.db, t.clock, 'sms', to, `other ${i}`);
      await run();
      fake.setStatus((await outboxRow(t.db, other)).provider_id!, 'delivered');
    }
    fake.reset();
    t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
    await run();
    const pages = lists('Messages.json');
    expect(pages).toHaveLength(2);
    expect(pages[1]!.query.get('PageToken')).toMatch(/^PASM/);
    expect(posts('Messages.json', to)).toHaveLength(0);
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', provider_id: messagesTo(to)[0]!.sid });
    expect(messagesTo(to)).toHaveLength(151);
  });

  it("a status callback that already named the message settles it without asking Twilio's list", async () => {
    const { id, to } = await firstAttempt('sms', 'accept-then-drop');
    const sid = messagesTo(to)[0]!.sid;
    // Still queued at Twilio (no date_sent), but its "queued" callback came, naming our message.
    const res = await fake.sendStatus(t.app, sid, 'queued');
    expect(res.statusCode).toBe(204);
    t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
    await run();
    expect(lists('Messages.json')).toHaveLength(0);
    expect(messagesTo(to)).toHaveLength(1);
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', provider_id: sid });
  });

  it('a process that died while sending: its expired claim is looked up before anything is posted', async () => {
    const to = newNumber();
    const id = await queuePhoneMessage(t.db, t.clock, 'sms', to, 'Your Verity code is 424242.');
    fake.failNext(1, 'accept-then-drop');
    await run();
    // As if the process had died before it could record anything: the row stays claimed.
    await t.db.updateTable('outbox').set({ status: 'processing', last_error: null, locked_until: t.clock.now() }).where('id', '=', id).execute();
    fake.setStatus(messagesTo(to)[0]!.sid, 'sent');
    t.clock.advanceSeconds(1);
    await run();
    expect(lists('Messages.json')).toHaveLength(1);
    expect(posts('Messages.json', to)).toHaveLength(1);
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', provider_id: messagesTo(to)[0]!.sid });
  });
});

describe('an uncertain attempt that Twilio never got is sent again, once', () => {
  const lost: Failure[] = ['drop', 500, 502];
  for (const failure of lost) {
    it(`${failure}: the lookup finds no copy, so the retry posts it`, async () => {
      const { id, to } = await firstAttempt('sms', failure);
      expect((await outboxRow(t.db, id)).last_error?.startsWith(OUTCOME_UNKNOWN)).toBe(true);
      expect(messagesTo(to)).toHaveLength(0);
      t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
      await run();
      expect(lists('Messages.json')).toHaveLength(1);
      expect(posts('Messages.json', to)).toHaveLength(2);
      expect(messagesTo(to)).toHaveLength(1);
      expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', attempts: 2, provider_id: messagesTo(to)[0]!.sid });
    });
  }
});

describe('a send that certainly failed is retried without a lookup', () => {
  it('connection refused: queued with the normal backoff, then delivered once', async () => {
    const { id, to } = await firstAttempt('sms', 'down');
    const failed = await outboxRow(t.db, id);
    expect(failed).toMatchObject({ status: 'queued', attempts: 1 });
    expect(failed.last_error).toMatch(/ECONNREFUSED/);
    expect(failed.last_error?.startsWith(OUTCOME_UNKNOWN)).toBe(false);
    expect(await secondsUntilRetry(id)).toBe(2);
    t.clock.advanceSeconds(2);
    await run();
    expect(lists('Messages.json')).toHaveLength(0);
    expect(posts('Messages.json', to)).toHaveLength(1);
    expect(messagesTo(to)).toHaveLength(1);
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', attempts: 2, provider_id: messagesTo(to)[0]!.sid });
  });
});

describe('a lookup that fails leaves the message waiting, never resent blindly', () => {
  for (const [what, failLookup] of [
    ['Twilio answers the list with 500', async () => fake.failNext(1, 500)],
    ['Twilio refuses connections', async () => fake.down()],
  ] as const) {
    it(`${what}: still queued, still uncertain; the next lookup finds the copy`, async () => {
      const { id, to } = await firstAttempt('sms', 'accept-then-drop');
      fake.setStatus(messagesTo(to)[0]!.sid, 'sent');
      t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
      await failLookup();
      try {
        await run();
      } finally {
        if (what.includes('refuses')) await fake.up();
      }
      const waiting = await outboxRow(t.db, id);
      expect(waiting).toMatchObject({ status: 'queued', attempts: 2, provider_id: null });
      expect(waiting.last_error).toContain(`${OUTCOME_UNKNOWN}twilio: could not look for an earlier hand-off`);
      expect(await secondsUntilRetry(id)).toBe(delivery.uncertainRetrySeconds);
      expect(posts('Messages.json', to)).toHaveLength(1);

      t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
      await run();
      expect(posts('Messages.json', to)).toHaveLength(1);
      expect(messagesTo(to)).toHaveLength(1);
      expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', attempts: 3, provider_id: messagesTo(to)[0]!.sid });
    });
  }
});

describe('voice calls go the same way, through the Calls list', () => {
  it('a call whose answer was lost is found by To and StartTime and not placed again', async () => {
    const { id, to } = await firstAttempt('voice', 'accept-then-drop');
    const [call] = callsTo(to);
    fake.setStatus(call!.sid, 'ringing');
    t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
    await run();
    const [lookup, ...again] = lists('Calls.json');
    expect(again).toHaveLength(0);
    expect(lookup!.query.get('To')).toBe(to);
    expect(lookup!.query.get('StartTime>')).toBe(t.clock.now().toISOString().slice(0, 10));
    expect(posts('Calls.json', to)).toHaveLength(1);
    expect(callsTo(to)).toHaveLength(1);
    expect(await outboxRow(t.db, id)).toMatchObject({ status: 'sent', provider_id: call!.sid });
  });

  it("a call that belongs to another message to the same number is not taken for this one's", async () => {
    const to = newNumber();
    // An earlier call to that number, handed over and known by its SID.
    const earlier = await queuePhoneMessage(t.db, t.clock, 'voice', to, 'Your code is 1 1 1.');
    await run();
    const earlierSid = (await outboxRow(t.db, earlier)).provider_id!;
    fake.setStatus(earlierSid, 'completed');
    await recordDelivery(t.db, t.clock.now(), { outboxId: earlier, providerId: earlierSid, status: 'delivered', providerStatus: 'completed', errorCode: null });
    // This one never reached Twilio, though we cannot know it.
    const { id } = await firstAttempt('voice', 'drop', to);
    t.clock.advanceSeconds(delivery.uncertainRetrySeconds);
    await run();
    expect(callsTo(to)).toHaveLength(2);
    const row = await outboxRow(t.db, id);
    expect(row.status).toBe('sent');
    expect(row.provider_id).not.toBe(earlierSid);
    expect(row.provider_id).toBe(callsTo(to)[1]!.sid);
  });
});
