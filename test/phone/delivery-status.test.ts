import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDelivery } from '../../src/platform/messaging/delivery.js';
import { auth, createTestApp, signUp, stepUp, type TestApp } from '../helpers/app.js';
import { phMobile, phoneStatus, resend, startPhone, verifyNumber } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('GET /v1/me/phone and the phone in GET /v1/me', () => {
  it('shows nothing before a number is given', async () => {
    const member = await signUp(t);
    expect(await phoneStatus(t, member)).toEqual({ number: null, verified: false, verifiedAt: null, pending: null });
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(me.json().phone).toBeNull();
  });

  it('shows the verification in progress with its delivery status and advice', async () => {
    const member = await signUp(t);
    const e164 = phMobile();
    await startPhone(t, member, { phone: e164 });
    // Not handed to the provider yet.
    let status = await phoneStatus(t, member);
    expect(status).toMatchObject({ number: e164, verified: false, verifiedAt: null });
    expect(status.pending).toMatchObject({ channel: 'sms', attemptsLeft: 5, delivery: { status: 'queued' } });
    expect(status.pending.delivery.advice).toMatch(/on its way.*can take a minute/);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(member.token) });
    expect(me.json().phone).toEqual({ number: e164, verified: false });

    // Handed over.
    await t.app.verity.outbox.drain();
    status = await phoneStatus(t, member);
    expect(status.pending.delivery.status).toBe('sent');
    expect(status.pending.delivery.advice).toMatch(/can take a minute/);

    // The provider reports it delivered, then (another message) undelivered.
    const row = await t.db.selectFrom('phone_verifications').select('outbox_id').where('account_id', '=', member.id).executeTakeFirstOrThrow();
    await recordDelivery(t.db, t.clock.now(), { outboxId: row.outbox_id!, providerId: 'SM1', status: 'delivered', providerStatus: 'delivered', errorCode: null });
    status = await phoneStatus(t, member);
    expect(status.pending.delivery).toMatchObject({ status: 'delivered', advice: expect.stringMatching(/Enter the code/) });

    t.clock.advanceSeconds(30);
    await resend(t, member);
    const next = await t.db.selectFrom('phone_verifications').select('outbox_id').where('account_id', '=', member.id).where('status', '=', 'pending').executeTakeFirstOrThrow();
    expect(next.outbox_id).not.toBe(row.outbox_id);
    await t.app.verity.outbox.drain();
    await recordDelivery(t.db, t.clock.now(), { outboxId: next.outbox_id!, providerId: 'SM2', status: 'undelivered', providerStatus: 'undelivered', errorCode: '30003' });
    status = await phoneStatus(t, member);
    expect(status.pending.delivery.status).toBe('undelivered');
    expect(status.pending.delivery.advice).toMatch(/number is right/);
    expect(status.pending.delivery.advice).toMatch(/signal|coverage/);
    expect(status.pending.delivery.advice).toMatch(/roaming/);
    expect(status.pending.delivery.advice).toMatch(/voice call/);
  });

  it('shows the verified number with its time, and the pending one beside it while changing', async () => {
    const member = await signUp(t);
    const first = await verifyNumber(t, member);
    const status = await phoneStatus(t, member);
    expect(status).toMatchObject({ number: first, verified: true, pending: null });
    expect(Date.parse(status.verifiedAt)).toBeLessThanOrEqual(t.clock.now().getTime());
    t.clock.advanceSeconds(60);
    const second = phMobile();
    await stepUp(t, member);
    await startPhone(t, member, { phone: second });
    const changing = await phoneStatus(t, member);
    expect(changing).toMatchObject({ number: first, verified: true, pending: { phone: second } });
  });

  it('never offers a text message to a landline whose call did not get through', async () => {
    const member = await signUp(t);
    await startPhone(t, member, { phone: '+442071838751' });
    await t.app.verity.outbox.drain();
    const row = await t.db.selectFrom('phone_verifications').select('outbox_id').where('account_id', '=', member.id).executeTakeFirstOrThrow();
    await recordDelivery(t.db, t.clock.now(), { outboxId: row.outbox_id!, providerId: `CA${'1'.repeat(32)}`, status: 'undelivered', providerStatus: 'no-answer', errorCode: null });
    const { pending } = await phoneStatus(t, member);
    expect(pending).toMatchObject({ channel: 'voice', voiceOnly: true, delivery: { status: 'undelivered' } });
    expect(pending.delivery.advice).toMatch(/could not reach you by phone call/);
    expect(pending.delivery.advice).toMatch(/number is right/);
    expect(pending.delivery.advice).toMatch(/mobile number/);
    expect(pending.delivery.advice).not.toMatch(/text/);
  });
});

/** The verity_message_handoff_seconds histogram for a channel, read from GET /metrics. */
async function handoff(channel: string) {
  const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
  const value = (series: string) => Number(new RegExp(`^verity_message_handoff_seconds_${series} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: value(`count{channel="${channel}"}`), underOneSecond: value(`bucket{le="1",channel="${channel}"}`) };
}

describe('the time from request to hand-off', () => {
  it('is measured per channel in /metrics, from the request that queued the code to the provider taking it', async () => {
    const sms = await handoff('sms');
    const voice = await handoff('voice');
    const member = await signUp(t);
    await startPhone(t, member, { phone: phMobile() });
    // The provider takes the message 0.4 s after the request (the clock is the app's).
    t.clock.advance(400);
    await t.app.verity.outbox.drain();
    expect(await handoff('sms')).toEqual({ count: sms.count + 1, underOneSecond: sms.underOneSecond + 1 });

    const caller = await signUp(t);
    await startPhone(t, caller, { phone: phMobile(), channel: 'voice' });
    // A hand-off that took 3 s counts, but not under one second.
    t.clock.advance(3000);
    await t.app.verity.outbox.drain();
    expect(await handoff('voice')).toEqual({ count: voice.count + 1, underOneSecond: voice.underOneSecond });
  });
});
