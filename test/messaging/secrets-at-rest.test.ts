import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decrypt } from '../../src/platform/crypto.js';
import { recordDelivery } from '../../src/platform/messaging/delivery.js';
import { DevOutboxTransport } from '../../src/platform/messaging/transports/dev-outbox.js';
import type { NewMessage } from '../../src/platform/messaging/outbox.js';
import { createTestApp, lastMessage, linkToken, signUp, type TestApp } from '../helpers/app.js';
import { clearMessages, makeOutbox, outboxRow, queue, ScriptedTransport, TEST_SECRETS } from './support.js';

/**
 * The outbox holds codes and link tokens only while it must: sealed until the hand-off,
 * erased after it, and the rows themselves deleted once past retention.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});
beforeEach(async () => {
  await clearMessages(t.db);
});

const CODE = '493817';
function challengeCode(to: string): NewMessage {
  return { channel: 'email', to, template: 'challenge-code', data: { username: 'casey', code: CODE, minutes: 10, host: 'verity.test' } };
}
function phoneCode(to: string): NewMessage {
  return { channel: 'sms', to, template: 'phone-code', data: { code: CODE, minutes: 10, host: 'verity.test' } };
}

describe('a queued message', () => {
  it('holds no plaintext code in any column: the subject and bodies are sealed', async () => {
    const outbox = makeOutbox(t.db, t.clock, new ScriptedTransport());
    const [mail, sms] = await queue(t.db, outbox, [challengeCode('casey@example.com'), phoneCode('+447700900123')]);
    for (const id of [mail!, sms!]) {
      const row = await outboxRow(t.db, id);
      expect(JSON.stringify(row)).not.toContain(CODE);
      expect(row).toMatchObject({ subject: null, body_text: null, body_html: null, status: 'queued' });
      // It is the message, sealed with the key derived from SECRET_KEY.
      expect(decrypt(TEST_SECRETS.outboxKey, row.sealed_body!)).toContain(CODE);
    }
  });

  it("of a real flow (sign-up's verification link) keeps its token out of the table", async () => {
    const member = await signUp(t);
    const queued = JSON.stringify(await t.db.selectFrom('outbox').selectAll().execute());
    const message = await lastMessage(t, member.email);
    const token = linkToken(message!.body, 'verify-email?token');
    expect(token.length).toBeGreaterThan(20);
    expect(queued).not.toContain(token);
    expect(JSON.stringify(await t.db.selectFrom('outbox').selectAll().execute())).not.toContain(token);
  });
});

describe('once handed over', () => {
  it('the body is erased and the metadata kept; the dev outbox, being the transport, still shows it', async () => {
    const outbox = makeOutbox(t.db, t.clock, new ScriptedTransport([], { inner: new DevOutboxTransport(t.db, t.clock) }));
    const [id] = await queue(t.db, outbox, [challengeCode('casey@example.com')]);
    await outbox.drain();
    const row = await outboxRow(t.db, id!);
    expect(row).toMatchObject({ status: 'sent', channel: 'email', recipient: 'casey@example.com', template: 'challenge-code', subject: null, body_text: null, body_html: null, sealed_body: null });
    expect(row.sent_at).not.toBeNull();
    const shown = (await t.app.inject({ method: 'GET', url: '/v1/dev/outbox?to=casey@example.com' })).json() as Array<{ subject: string; body: string }>;
    expect(shown[0]!.subject).toBe(`Your Verity code: ${CODE}`);
    expect(shown[0]!.body).toContain(CODE);
  });

  it('a message given up is erased too; one that will be retried keeps its sealed body', async () => {
    const transport = new ScriptedTransport(['fail', 'reject']);
    const outbox = makeOutbox(t.db, t.clock, transport);
    const [id] = await queue(t.db, outbox, [phoneCode('+447700900123')]);
    await outbox.runOnce();
    expect(await outboxRow(t.db, id!)).toMatchObject({ status: 'queued' });
    expect((await outboxRow(t.db, id!)).sealed_body).not.toBeNull();
    t.clock.advanceSeconds(60);
    await outbox.runOnce();
    expect(await outboxRow(t.db, id!)).toMatchObject({ status: 'abandoned', sealed_body: null, body_text: null, subject: null });
    // Both attempts carried the real text.
    expect(transport.calls.map((c) => c.text.includes(CODE))).toEqual([true, true]);
  });

  it('a row written in the clear before bodies were sealed is still sent, then erased', async () => {
    const transport = new ScriptedTransport();
    const outbox = makeOutbox(t.db, t.clock, transport);
    const legacy = await t.db
      .insertInto('outbox')
      .values({ channel: 'sms', recipient: '+447700900123', template: 'phone-code', subject: null, body_text: `code ${CODE}`, body_html: null, next_attempt_at: t.clock.now(), created_at: t.clock.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await outbox.drain();
    expect(transport.calls.map((c) => c.text)).toEqual([`code ${CODE}`]);
    expect(await outboxRow(t.db, legacy.id)).toMatchObject({ status: 'sent', body_text: null });
  });
});

describe('retention', () => {
  it('purges finished messages older than the retention age on the injected clock, and nothing else', async () => {
    const outbox = makeOutbox(t.db, t.clock, new ScriptedTransport(['accept', 'reject']));
    // Queued as long ago, and still waiting for a retry weeks away: not the sweep's to delete.
    const waiting = await t.db
      .insertInto('outbox')
      .values({ channel: 'email', recipient: 'waiting@example.com', template: 'challenge-code', next_attempt_at: new Date(t.clock.now().getTime() + 90 * 86400_000), created_at: t.clock.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const [, abandoned] = await queue(t.db, outbox, [challengeCode('old@example.com'), phoneCode('+447700900123')]);
    await outbox.drain();
    await recordDelivery(t.db, t.clock.now(), { outboxId: abandoned!, providerId: null, status: 'failed', providerStatus: 'rejected', errorCode: '21211' });
    t.clock.advanceSeconds(20 * 86400);
    const [recent] = await queue(t.db, outbox, [challengeCode('recent@example.com')]);
    await outbox.drain();

    t.clock.advanceSeconds(9 * 86400);
    expect(await outbox.purgeFinished(30)).toBe(0);
    t.clock.advanceSeconds(2 * 86400);
    expect(await outbox.purgeFinished(30)).toBe(2);

    const left = await t.db.selectFrom('outbox').select('id').execute();
    expect(left.map((r) => r.id).sort()).toEqual([recent!, waiting.id].sort());
    expect(await t.db.selectFrom('message_deliveries').selectAll().where('outbox_id', '=', abandoned!).execute()).toEqual([]);
    expect(t.config.outboxRetentionDays).toBe(30);
  });
});
