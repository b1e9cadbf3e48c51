import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilio } from '../helpers/fake-twilio.js';
import { startServer, type ServerProcess } from '../helpers/process.js';
import { Smtp, logLines, member, metric, post, waitFor } from './support.js';

/**
 * The SMTP server and the SMS provider both down while members sign up and verify phones,
 * on a real server process sending through a real SMTP server (smtp-server) and the local
 * Twilio-speaking server: the messages wait in the outbox, retried, and each goes out once
 * when its provider is back. The server runs on its embedded database whatever the suite
 * runs on (its outbox is the same code on both).
 */
let smtp: Smtp;
let twilio: FakeTwilio;
let server: ServerProcess;

beforeAll(async () => {
  smtp = await Smtp.reserve();
  twilio = await FakeTwilio.start();
  await twilio.down();
  server = await startServer({ DATA_DIR: mkdtempSync(join(tmpdir(), 'verity-providers-')), EMAIL_TRANSPORT: 'smtp', SMTP_URL: smtp.url, ...twilio.env() });
}, 180_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  await smtp?.down();
  await twilio?.close().catch(() => undefined);
});

const retries = (channel: string) => metric(server, 'verity_messages_total', `{channel="${channel}",result="retry"}`);
const sent = (channel: string) => metric(server, 'verity_messages_total', `{channel="${channel}",result="sent"}`);

describe('SMTP and the SMS provider down', () => {
  const emails: string[] = [];
  const phones: string[] = [];

  it('messages wait in the outbox, retried, while both are down', async () => {
    for (let i = 0; i < 3; i++) {
      const body = member(`providers-${i}`);
      const res = await post(server.base, '/v1/accounts', body);
      expect(res.status).toBe(201);
      emails.push(body.email);
      const { session } = (await res.json()) as { session: { token: string } };
      const phone = `+6391755${String(1000 + i)}`.padEnd(13, '0');
      const started = await post(server.base, '/v1/me/phone', { phone }, session.token);
      expect(started.status, await started.clone().text()).toBe(202);
      phones.push(phone);
    }
    // Every message was tried and failed, and is queued again (not given up, not lost).
    await waitFor('a failed attempt of each message', async () => ((await retries('email')) >= 3 && (await retries('sms')) >= 3 ? true : undefined), 30_000, 250);
    expect(await metric(server, 'verity_outbox_backlog')).toBe(6);
    expect(await sent('email')).toBe(0);
    expect(await sent('sms')).toBe(0);
    expect(logLines(server).filter((l) => l.msg === 'message delivery failed' && l.giveUp === false).length).toBeGreaterThanOrEqual(6);
    expect(smtp.received).toHaveLength(0);
    expect(twilio.messages).toHaveLength(0);
  }, 120_000);

  it('they go out when the providers are back, each exactly once', async () => {
    await smtp.up();
    await twilio.up();
    // The next retry is at most 2^(attempts-1) × 2 s away; nothing has to nudge the worker.
    await waitFor('every message sent', async () => ((await metric(server, 'verity_outbox_backlog')) === 0 ? true : undefined), 60_000, 500);
    // A little longer, for a copy that would come late.
    await new Promise((r) => setTimeout(r, 1500));
    for (const email of emails) expect(smtp.to(email).map((m) => m.subject), email).toEqual([expect.stringContaining('Confirm your e-mail')]);
    expect([...smtp.copiesById().values()]).toEqual([1, 1, 1]);
    expect(twilio.requestsTo('Messages.json').filter((r) => r.method === 'POST').length).toBe(3);
    expect(twilio.messages.map((m) => m.form.get('To')).sort()).toEqual([...phones].sort());
    expect(await sent('email')).toBe(3);
    expect(await sent('sms')).toBe(3);
    expect(await metric(server, 'verity_messages_total', '{channel="sms",result="abandoned"}')).toBe(0);
  }, 90_000);
});
