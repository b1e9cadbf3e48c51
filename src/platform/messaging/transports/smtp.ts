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
    options: Record<string, unknown> = {},
  ) {
    this.transporter = nodemailer.createTransport(url, options);
  }

  async send(message: OutgoingMessage): Promise<{ providerId?: string }> {
    try {
      const info = await this.transporter.sendMail({
        from: this.from,
        to: message.to,
        subject: message.subject ?? '',
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
        // A stable Message-ID lets receivers drop a copy if a hand-off is ever repeated.
        messageId: `<${message.id}@${this.domain}>`,
        headers: { 'X-Verity-Message-Id': message.id },
      });
      return { providerId: info.messageId };
    } catch (error) {
      const e = error as { responseCode?: number; message?: string };
      // 5xx SMTP replies are permanent (bad mailbox); everything else is worth retrying.
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
      throw new TransportError(`smtp: ${e.message ?? 'send failed'}`, permanent);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}
