import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { FakeTwilio } from '../helpers/fake-twilio.js';

// A lost status callback must not leave a member reading "on its way" for ever: after a
// minute without a word, looking at the phone status asks Twilio for the message itself.
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

let n = 0;
/** A member with a code handed to Twilio, whose status callback never comes. */
async function waitingMember() {
  const member = await signUp(t, { country: 'PH' });
  const phone = `+63917555${String(1000 + ++n)}`;
  const res = await t.app.inject({ method: 'POST', url: '/v1/me/phone', headers: auth(member.token), payload: { phone }, remoteAddress: randomIp() });
  expect(res.statusCode, res.body).toBe(202);
  await t.app.verity.outbox.drain();
  const sid = fake.messages.find((m) => m.form.get('To') === phone)!.sid;
  return { member, sid };
}

async function delivery(token: string) {
  const res = await t.app.inject({ method: 'GET', url: '/v1/me/phone', headers: auth(token) });
  expect(res.statusCode).toBe(200);
  return res.json().pending.delivery as { status: string; advice: string; errorCode: string | null };
}

const fetches = (sid: string) => fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/Messages/${sid}.json`)).length;

describe('a status callback that never came', () => {
  it('is asked of Twilio once the code has been on its way for a minute, and shown with its advice', async () => {
    const { member, sid } = await waitingMember();
    fake.setStatus(sid, 'undelivered', 30003);
    t.clock.advanceSeconds(30);
    expect((await delivery(member.token)).status).toBe('sent');
    expect(fetches(sid)).toBe(0); // too early to ask
    t.clock.advanceSeconds(31);
    const now = await delivery(member.token);
    expect(now).toMatchObject({ status: 'undelivered', errorCode: '30003' });
    expect(now.advice).toContain('voice call');
    expect(fetches(sid)).toBe(1);
    // A final word is kept: no more questions to Twilio.
    t.clock.advanceSeconds(120);
    expect((await delivery(member.token)).status).toBe('undelivered');
    expect(fetches(sid)).toBe(1);
  });

  it('asks at most once every 30 seconds while Twilio still says sent', async () => {
    const { member, sid } = await waitingMember();
    fake.setStatus(sid, 'sent');
    t.clock.advanceSeconds(61);
    for (let i = 0; i < 5; i++) expect((await delivery(member.token)).status).toBe('sent');
    expect(fetches(sid)).toBe(1);
    // Twilio's "sent" is now the latest word, a minute old 60 s from now.
    t.clock.advanceSeconds(30);
    expect((await delivery(member.token)).status).toBe('sent');
    expect(fetches(sid)).toBe(1);
    t.clock.advanceSeconds(30);
    fake.setStatus(sid, 'delivered');
    expect((await delivery(member.token)).status).toBe('delivered');
    expect(fetches(sid)).toBe(2);
  });

  it('leaves the status as it was when Twilio cannot answer', async () => {
    const { member, sid } = await waitingMember();
    t.clock.advanceSeconds(61);
    fake.failNext(1, 500);
    const res = await t.app.inject({ method: 'GET', url: '/v1/me/phone', headers: auth(member.token) });
    expect(res.statusCode).toBe(200);
    expect(res.json().pending.delivery.status).toBe('sent');
    expect(fetches(sid)).toBe(1);
    // Asked again 30 s later, once Twilio answers.
    fake.setStatus(sid, 'delivered');
    t.clock.advanceSeconds(30);
    expect((await delivery(member.token)).status).toBe('delivered');
    expect(fetches(sid)).toBe(2);
  });
});
