import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { recordDelivery } from '../messaging/delivery.js';
import { TwilioClient } from './client.js';
import { callDeliveryStatus, messageDeliveryStatus } from './status.js';

/**
 * Asks the provider for a message's status when its callback is late or lost: returns
 * whether a new word was recorded. Never throws; a failed check just leaves the status.
 */
export type DeliveryRecheck = (outboxId: string) => Promise<boolean>;

/** Status checks take little time or the page that asked would wait on them. */
const RECHECK_TIMEOUT_MS = 3000;

/** Fetches the Message or Call resource from Twilio and records its status as a callback would. */
export function createTwilioRecheck(deps: { config: Pick<Config, 'twilio'>; db: Db; clock: Clock; log: Logger }): DeliveryRecheck {
  const { accountSid, authToken, baseUrl, lookupBaseUrl } = deps.config.twilio;
  if (!accountSid || !authToken) throw new Error('Twilio settings are missing (loadConfig checks them)');
  const client = new TwilioClient({ accountSid, authToken, baseUrl, lookupBaseUrl }, { timeoutMs: RECHECK_TIMEOUT_MS });
  return async (outboxId) => {
    const message = await deps.db.selectFrom('outbox').select(['channel', 'provider_id']).where('id', '=', outboxId).executeTakeFirst();
    if (!message?.provider_id || message.channel === 'email') return false;
    const voice = message.channel === 'voice';
    try {
      const resource = await client.fetchResource(voice ? 'Calls' : 'Messages', message.provider_id);
      const word = typeof resource.status === 'string' ? resource.status : '';
      const status = voice ? callDeliveryStatus(word) : messageDeliveryStatus(word);
      if (!status) return false;
      const code = resource.error_code;
      return await recordDelivery(deps.db, deps.clock.now(), {
        outboxId,
        providerId: message.provider_id,
        status,
        providerStatus: word,
        errorCode: typeof code === 'number' || typeof code === 'string' ? String(code) : null,
      });
    } catch (error) {
      deps.log.warn({ err: error, outboxId }, 'twilio status recheck failed');
      return false;
    }
  };
}
