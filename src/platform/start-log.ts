import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config.js';

/**
 * The address to open: PUBLIC_URL, the host name e-mail links and cookies use. With PORT=0 the
 * default (`http://localhost:0`) names no real port, so the port the server was given is put in.
 */
export function siteUrl(config: Config, address: AddressInfo | string | null): string {
  const url = new URL(config.publicUrl);
  if (url.port === '0' && address && typeof address === 'object') url.port = String(address.port);
  return url.toString().replace(/\/+$/, '');
}

/**
 * The lines a newcomer reads after `npm start`: where the site is, where development messages
 * go, and how to become the first administrator (the token file's path; the token itself stays
 * out of the logs).
 */
export function logWhatToOpen(log: Logger, open: { siteUrl: string; devOutbox: boolean; setupTokenFile: string | null }): void {
  const { siteUrl: site, devOutbox, setupTokenFile } = open;
  log.info({ url: site }, `Verity is ready: open ${site}`);
  if (devOutbox) log.info({ url: `${site}/dev/outbox` }, `Messages are not sent in development: read them at ${site}/dev/outbox`);
  if (setupTokenFile) {
    log.warn({ file: setupTokenFile }, `No administrator yet: sign up at ${site}/signup, then open ${site}/admin and enter the one-time token from ${setupTokenFile} (valid for 24 hours; the first start after that writes a new one)`);
  }
}
