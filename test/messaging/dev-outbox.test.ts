import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, randomIp, uniqueUser, type TestApp } from '../helpers/app.js';
import { allChannels, ScriptedTransport } from './support.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function handoffCount(app: TestApp): Promise<number> {
  const metric = await app.app.verity.metrics.handoffSeconds.get();
  return metric.values.find((v) => v.metricName === 'verity_message_handoff_seconds_count' && v.labels.channel === 'email')?.value ?? 0;
}

async function signUpAs(app: TestApp, email: string) {
  const res = await app.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...uniqueUser(), email }, remoteAddress: randomIp() });
  expect(res.statusCode).toBe(201);
  return res.json() as { account: { id: string }; session: { token: string } };
}

describe('the worker and the development outbox', () => {
  it('sends a message as soon as the change commits (woken, not polled)', async () => {
    const outbox = t.app.verity.outbox;
    outbox.start();
    try {
      const before = await handoffCount(t);
      const email = `woken-${Date.now()}@example.com`;
      await signUpAs(t, email);
      // No drain and no clock change: only the wake() after the commit can have sent it
      // (the backstop tick is 30 s away).
      await outbox.settled();

      const res = await t.app.inject({ method: 'GET', url: `/v1/dev/outbox?to=${encodeURIComponent(email)}` });
      expect(res.statusCode).toBe(200);
      const list = res.json() as Array<{ to: string; subject: string; body: string; channel: string }>;
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ to: email, channel: 'email', subject: 'Confirm your e-mail address for Verity' });
      const row = await t.db.selectFrom('outbox').selectAll().where('recipient', '=', email).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      expect(await handoffCount(t)).toBe(before + 1);
      const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/verity_messages_total\{channel="email",result="sent"\} [1-9]/);
    } finally {
      await outbox.stop();
    }
  });

  it('lists only the messages to one recipient, whatever the case, newest first', async () => {
    const email = `listed-${Date.now()}@example.com`;
    const member = await signUpAs(t, email);
    await signUpAs(t, `other-${Date.now()}@example.com`);
    await t.app.verity.outbox.drain();
    const first = await t.db.selectFrom('outbox').select('id').where('recipient', '=', email).executeTakeFirstOrThrow();
    t.clock.advanceSeconds(60);
    const resend = await t.app.inject({ method: 'POST', url: '/v1/me/email-verification', headers: { authorization: `Bearer ${member.session.token}` } });
    expect(resend.statusCode).toBe(202);
    await t.app.verity.outbox.drain();

    const res = await t.app.inject({ method: 'GET', url: `/v1/dev/outbox?to=${encodeURIComponent(email.toUpperCase())}` });
    const list = res.json() as Array<{ to: string; body: string; createdAt: string }>;
    expect(list).toHaveLength(2);
    expect(list.every((m) => m.to === email)).toBe(true);
    expect(Date.parse(list[0]!.createdAt)).toBeGreaterThan(Date.parse(list[1]!.createdAt));
    const firstCopy = await t.db.selectFrom('dev_messages').select('body').where('idempotency_key', '=', first.id).executeTakeFirstOrThrow();
    expect(list[1]!.body).toBe(firstCopy.body);
  });

  it('shows the messages on the /dev/outbox page, with data escaped', async () => {
    const email = `page-${Date.now()}@example.com`;
    await t.db.insertInto('dev_messages').values({
      idempotency_key: `page-${Date.now()}`,
      channel: 'email',
      recipient: email,
      subject: 'Hello <b>there</b>',
      body: 'Open https://verity.test/x?token=abc <script>alert(1)</script>',
      html: null,
      created_at: t.clock.now(),
    }).execute();
    const res = await t.app.inject({ method: 'GET', url: `/dev/outbox?to=${encodeURIComponent(email)}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('Hello &lt;b&gt;there&lt;/b&gt;');
    expect(res.body).toContain('<a href="https://verity.test/x?token=abc">');
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.body).not.toContain('<script>alert(1)</script>');
  });
});

describe('in production', () => {
  it('answers 404 for the development outbox API and page', async () => {
    const transport = new ScriptedTransport();
    const prod = await createTestApp({
      database: t.database,
      env: {
        NODE_ENV: 'production',
        TRUST_PROXY: 'none',
        PUBLIC_URL: 'https://verity.example',
        EMAIL_TRANSPORT: 'smtp',
        SMTP_URL: 'smtp://127.0.0.1:2525',
        SMS_TRANSPORT: 'twilio',
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: 'test-token',
        TWILIO_FROM: '+15005550006',
      },
      transports: () => allChannels(transport),
    });
    try {
      expect(prod.config.production).toBe(true);
      for (const url of ['/v1/dev/outbox', '/v1/dev/outbox?to=a%40example.com', '/dev/outbox']) {
        const res = await prod.app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(404);
      }
      // The same routes answer outside production, over the same database.
      expect((await t.app.inject({ method: 'GET', url: '/v1/dev/outbox' })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/dev/outbox' })).statusCode).toBe(200);
    } finally {
      await prod.close();
    }
  });
});
