import type { Clock } from '../../clock.js';
import { ConfigError, type Config } from '../../config.js';
import type { Db } from '../../db/database.js';
import type { Transports } from '../transport.js';
import { DevOutboxTransport } from './dev-outbox.js';
import { SmtpTransport } from './smtp.js';

/** Picks each channel's transport from the configuration. */
export function createTransports(config: Config, db: Db, clock: Clock): Transports {
  const dev = new DevOutboxTransport(db, clock);
  const email = config.emailTransport === 'smtp' ? new SmtpTransport(config.smtpUrl!, config.emailFrom, new URL(config.publicUrl).hostname) : dev;
  if (config.smsTransport === 'twilio') {
    throw new ConfigError('SMS_TRANSPORT', 'twilio is not available in this build yet; use outbox');
  }
  return { email, sms: dev, voice: dev };
}
