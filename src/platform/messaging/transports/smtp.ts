import nodemailer, { type Transporter } from 'nodemailer';
import { TransportError, type OutgoingMessage, type Transport } from '../transport.js';

/** E-mail over SMTP through nodemailer. */
export class SmtpTransport implements Transport {
  readonly name = 'smtp';
  private readonly transporter: Transporter;

  constructor(
    url: string,
    private readonly from: string,
    private readonly domain = 'verity.local',
    /** Extra nodemailer transport options (tests pass `{ ignoreTLS: true }`); the URL wins. */
    options: Record<string, unknown> = {},
  ) {
    // The options go in the transport configuration: createTransport's second argument
    // would be message defaults, where settings like ignoreTLS are silently ignored.
    this.transporter = nodemailer.createTransport({
      // Bounded waits, well inside the outbox claim (60 s): a hung server fails this
      // attempt instead of letting another process re-take the claim and send a copy.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      ...options,
      url,
    });
  }

  async send(message: OutgoingMessage): Promise<{ providerId?: string }> {
    try {
      const info = await this.transporter.sendMail({
        from: this.from,
        to: message.to,
        subject: message.subject ?? '',
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
        ...(message.replyTo ? { replyTo: message.replyTo } : {}),
        // A stable Message-ID lets receivers drop a copy if a hand-off is ever repeated.
        messageId: `<${message.id}@${this.domain}>`,
        headers: { 'X-Verity-Message-Id': message.id },
      });
      return { providerId: info.messageId };
    } catch (error) {
      const e = error as { code?: string; responseCode?: number; message?: string };
      // A 5xx refusal of this message or its recipient (or an address nodemailer itself
      // refuses) is permanent. 4xx, timeouts, refused connections and auth failures (a
      // server or configuration problem, not this message's) are worth retrying.
      const aboutMessage = e.code === 'EENVELOPE' || e.code === 'EMESSAGE';
      const permanent = aboutMessage && (e.responseCode === undefined || e.responseCode >= 500);
      throw new TransportError(`smtp: ${e.message ?? 'send failed'}`, permanent);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}
