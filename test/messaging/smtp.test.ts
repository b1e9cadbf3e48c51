import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import type { Database } from '../../src/platform/db/database.js';
import { backoffSeconds } from '../../src/platform/messaging/outbox.js';
import { SmtpTransport } from '../../src/platform/messaging/transports/smtp.js';
import { openTestDatabase } from '../helpers/database.js';
import { clearMessages, makeOutbox, outboxRow, queue } from './support.js';

/** A real SMTP server on a free loopback port; `reply` decides how RCPT TO is answered. */
class TestSmtpServer {
  readonly received: ParsedMail[] = [];
  /** The name each client gave in EHLO. */
  readonly greetings: string[] = [];
  /** null accepts; a number refuses the recipient with that SMTP code. */
  reply: number | null = null;
  private readonly server: SMTPServer;
  port = 0;

  /** `password`: the server demands sign-in and takes only this password. */
  constructor(password?: string) {
    this.server = new SMTPServer({
      authOptional: !password,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, callback) => {
        if (auth.password === password) return callback(null, { user: auth.username });
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo: (_address, _session, callback) => {
        if (this.reply === null) return callback();
        callback(Object.assign(new Error(this.reply >= 500 ? 'No such mailbox here' : 'Mailbox busy, try later'), { responseCode: this.reply }));
      },
      onData: (stream, session, callback) => {
        this.greetings.push(session.hostNameAppearsAs);
        simpleParser(stream)
          .then((mail) => {
            this.received.push(mail);
            callback();
          })
          .catch(callback);
      },
    });
  }

  async start(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const FROM = 'Verity <no-reply@verity.test>';
let database: Database;
let clock: ManualClock;
let smtp: TestSmtpServer;

function transportFor(port: number) {
  return new SmtpTransport(`smtp://127.0.0.1:${port}`, FROM, 'verity.test', { ignoreTLS: true, name: 'verity-test-client' });
}

beforeAll(async () => {
  database = await openTestDatabase();
  smtp = new TestSmtpServer();
  await smtp.start();
});
afterAll(async () => {
  await smtp.close();
  await database.close();
});
beforeEach(async () => {
  clock = new ManualClock();
  smtp.reply = null;
  smtp.received.length = 0;
  smtp.greetings.length = 0;
  await clearMessages(database.db);
});

const message = (to: string) => ({
  channel: 'email' as const,
  to,
  template: 'verify-email',
  data: { username: 'Tom & <Jerry>', link: 'https://verity.test/verify-email?token=abc&x=1' },
});

describe('e-mail over SMTP', () => {
  it('hands a rendered message to a real SMTP server, with the outbox id as Message-ID', async () => {
    const transport = transportFor(smtp.port);
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [message('ana@example.com')]);
    await outbox.drain();
    await transport.close();

    expect(smtp.received).toHaveLength(1);
    // The transport options reached nodemailer (not dropped as message defaults).
    expect(smtp.greetings).toEqual(['verity-test-client']);
    const mail = smtp.received[0]!;
    expect(mail.subject).toBe('Confirm your e-mail address for Verity');
    expect(mail.messageId).toBe(`<${id}@verity.test>`);
    expect(mail.headers.get('x-verity-message-id')).toBe(id);
    expect(mail.from?.value).toEqual([{ address: 'no-reply@verity.test', name: 'Verity' }]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined).toBe('ana@example.com');
    // Plain text carries the data as is; HTML escapes it.
    expect(mail.text).toContain('Hello Tom & <Jerry>,');
    expect(mail.text).toContain('https://verity.test/verify-email?token=abc&x=1');
    expect(mail.html).toContain('Hello Tom &amp; &lt;Jerry&gt;,');
    expect(mail.html).toContain('href="https://verity.test/verify-email?token=abc&amp;x=1"');
    expect(mail.html).not.toContain('<Jerry>');
    expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'sent', attempts: 1, provider_id: `<${id}@verity.test>` });
  });

  it('retries a 4xx refusal and delivers once the server accepts', async () => {
    const transport = transportFor(smtp.port);
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [message('busy@example.com')]);

    smtp.reply = 451;
    await outbox.drain();
    const row = await outboxRow(database.db, id!);
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row.last_error).toMatch(/451/);
    expect(smtp.received).toHaveLength(0);

    smtp.reply = null;
    clock.advanceSeconds(backoffSeconds(1));
    await outbox.drain();
    await transport.close();
    expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(smtp.received.map((m) => m.messageId)).toEqual([`<${id}@verity.test>`]);
  });

  it('abandons a message the server refuses with 5xx at once', async () => {
    const transport = transportFor(smtp.port);
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [message('nobody@example.com')]);

    smtp.reply = 550;
    await outbox.drain();
    clock.advanceSeconds(3600);
    await outbox.drain();
    await transport.close();
    const row = await outboxRow(database.db, id!);
    expect(row).toMatchObject({ status: 'abandoned', attempts: 1 });
    expect(row.last_error).toMatch(/550/);
    expect(smtp.received).toHaveLength(0);
  });

  it('retries while the SMTP server is unreachable, then delivers when it is back', async () => {
    const down = new TestSmtpServer();
    await down.start();
    const port = down.port;
    await down.close();

    const transport = transportFor(port);
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [message('later@example.com')]);
    await outbox.drain();
    expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'queued', attempts: 1 });

    const back = new TestSmtpServer();
    await back.start(port);
    try {
      clock.advanceSeconds(backoffSeconds(1));
      await outbox.drain();
      await transport.close();
      expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(back.received.map((m) => m.messageId)).toEqual([`<${id}@verity.test>`]);
    } finally {
      await back.close();
    }
  });

  it('keeps retrying when the server refuses our credentials (a configuration problem, not the message)', async () => {
    const strict = new TestSmtpServer('right-password');
    await strict.start();
    try {
      const wrong = new SmtpTransport(`smtp://verity:wrong-password@127.0.0.1:${strict.port}`, FROM, 'verity.test', { ignoreTLS: true });
      const outbox = makeOutbox(database.db, clock, wrong);
      const [id] = await queue(database.db, outbox, [message('auth@example.com')]);
      await outbox.drain();
      await wrong.close();
      const row = await outboxRow(database.db, id!);
      expect(row).toMatchObject({ status: 'queued', attempts: 1 });
      expect(row.last_error).toMatch(/535|auth/i);

      // Fixed configuration (same message, next attempt): delivered.
      const right = new SmtpTransport(`smtp://verity:right-password@127.0.0.1:${strict.port}`, FROM, 'verity.test', { ignoreTLS: true });
      const fixed = makeOutbox(database.db, clock, right);
      clock.advanceSeconds(backoffSeconds(1));
      await fixed.drain();
      await right.close();
      expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(strict.received.map((m) => m.messageId)).toEqual([`<${id}@verity.test>`]);
    } finally {
      await strict.close();
    }
  });
});
