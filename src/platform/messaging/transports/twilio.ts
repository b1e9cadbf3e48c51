import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/database.js';
import { TwilioClient, TwilioTransportError, type TwilioClientOptions } from '../../twilio/client.js';
import { findEarlierHandoff, messageTag, tagBody } from '../../twilio/earlier-handoff.js';
import { statusCallbackUrl } from '../../twilio/signature.js';
import { recordDelivery } from '../delivery.js';
import { TransportError, type OutgoingMessage, type Transport } from '../transport.js';

/** Twilio sends these call events to the status callback ("completed" alone is the default). */
const CALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;

/** Characters that would break out of the TwiML text node or its attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/**
 * SMS through Twilio's Messages resource and voice through its Calls resource (the
 * message text read out by <Say>). Each hand-off asks for status callbacks to our webhook.
 * Twilio does not dedupe creates: when an earlier hand-off may have reached it, the copy
 * Twilio already has is looked up first (twilio/earlier-handoff.ts) and only a message
 * Twilio certainly lacks is posted again.
 */
export class TwilioTransport implements Transport {
  readonly name = 'twilio';

  constructor(
    private readonly client: TwilioClient,
    private readonly from: string,
    private readonly publicUrl: string,
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async send(message: OutgoingMessage): Promise<{ providerId?: string }> {
    if (message.channel !== 'sms' && message.channel !== 'voice') {
      throw new TransportError(`twilio: cannot send ${message.channel} messages`, true);
    }
    // The callback URL names the outbox message, so a status that arrives before the
    // outbox has stored the SID still finds its message (Twilio signs the whole URL).
    if (message.mayHaveBeenSent) {
      const earlier = await this.lookForEarlierCopy(message);
      if (earlier) return { providerId: earlier };
    }
    const callback = statusCallbackUrl(this.publicUrl, message.id);
    const form = new URLSearchParams({ To: message.to, From: this.from, StatusCallback: callback });
    try {
      if (message.channel === 'sms') {
        // The reference is what a later lookup recognises our copy by (Twilio lists the Body).
        form.set('Body', tagBody(message.text, messageTag(message.id)));
        const created = await this.client.createMessage(form);
        return { providerId: created.sid };
      }
      form.set('Twiml', `<Response><Say>${escapeXml(message.text)}</Say></Response>`);
      for (const event of CALL_EVENTS) form.append('StatusCallbackEvent', event);
      const created = await this.client.createCall(form);
      return { providerId: created.sid };
    } catch (error) {
      if (error instanceof TwilioTransportError && error.permanent) await this.recordRefusal(message.id, error);
      throw error;
    }
  }

  /** The SID of the copy Twilio already has, or null; a lookup that fails keeps the message waiting. */
  private async lookForEarlierCopy(message: OutgoingMessage): Promise<string | null> {
    try {
      return await findEarlierHandoff({ client: this.client, db: this.db, from: this.from, now: () => this.clock.now() }, message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // Still uncertain: the next attempt looks again rather than posting a second copy.
      throw new TransportError(`twilio: could not look for an earlier hand-off, not sending again yet: ${reason}`, false, true);
    }
  }

  /**
   * Twilio refused the message for good (invalid number, unsubscribed…): keep its error
   * code so the member can be told why. Best effort: the outbox gives up either way.
   */
  private async recordRefusal(outboxId: string, error: TwilioTransportError): Promise<void> {
    try {
      await recordDelivery(this.db, this.clock.now(), {
        outboxId,
        providerId: null,
        status: 'failed',
        providerStatus: 'rejected',
        errorCode: error.twilio.code === null ? null : String(error.twilio.code),
      });
    } catch {
      // The outbox records the failure itself in last_error.
    }
  }
}

/** The transport for both phone channels, from the configuration. */
export function createTwilioTransport(config: Config, db: Db, clock: Clock, options: TwilioClientOptions = {}): TwilioTransport {
  const { accountSid, authToken, from, baseUrl, lookupBaseUrl } = config.twilio;
  if (!accountSid || !authToken || !from) throw new Error('Twilio settings are missing (loadConfig checks them)');
  const client = new TwilioClient({ accountSid, authToken, baseUrl, lookupBaseUrl }, options);
  return new TwilioTransport(client, from, config.publicUrl, db, clock);
}
