import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/database.js';
import type { Transports } from '../transport.js';
import { DevOutboxTransport } from './dev-outbox.js';
import { SmtpTransport } from './smtp.js';
import { createTwilioTransport } from './twilio.js';

/** Picks each channel's transport from the configuration. */
export function createTransports(config: Config, db: Db, clock: Clock): Transports {
  const dev = new DevOutboxTransport(db, clock);
  const email = config.emailTransport === 'smtp' ? new SmtpTransport(config.smtpUrl!, config.emailFrom, new URL(config.publicUrl).hostname) : dev;
  if (config.smsTransport === 'twilio') {
    // One transport for both phone channels: SMS through Messages, voice through Calls.
    const twilio = createTwilioTransport(config, db, clock);
    return { email, sms: twilio, voice: twilio };
  }
  return { email, sms: dev, voice: dev };
}
