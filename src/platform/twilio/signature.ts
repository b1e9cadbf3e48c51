import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto.js';

/** Where Twilio posts status callbacks, below PUBLIC_URL. */
export const WEBHOOK_PATH = '/v1/webhooks/sms/twilio';

/**
 * The StatusCallback URL for one outbox message. Twilio signs the whole URL, query
 * included, so the message id in it is as trustworthy as the callback itself.
 */
export function statusCallbackUrl(publicUrl: string, outboxId: string): string {
  return `${publicUrl}${WEBHOOK_PATH}?message=${encodeURIComponent(outboxId)}`;
}

export type FormParams = Record<string, string | string[] | undefined>;

/**
 * Twilio's request signature: base64(HMAC-SHA1(auth token, URL + every POST parameter
 * name and value, sorted by name)). A repeated parameter contributes each distinct value,
 * sorted, as Twilio's own libraries do.
 */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? [...new Set(value)].sort() : [value];
    for (const v of values) data += name + v;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * True when `header` is Twilio's signature of this request. Twilio's libraries accept the
 * URL with or without its default port (:443 / :80), since Twilio has signed both forms;
 * so do we. Compared in constant time.
 */
export function isValidTwilioSignature(authToken: string, header: unknown, url: string, params: FormParams): boolean {
  if (typeof header !== 'string' || header.length === 0 || header.length > 256) return false;
  const given = Buffer.from(header, 'utf8');
  let valid = false;
  for (const candidate of urlForms(url)) {
    // Every form is checked (no early exit), so timing says nothing about which matched.
    if (constantTimeEqual(given, Buffer.from(twilioSignature(authToken, candidate, params), 'utf8'))) valid = true;
  }
  return valid;
}

/** The URL as given, and with its default port added or removed. */
function urlForms(url: string): string[] {
  const match = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string];
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : '80';
  const portMatch = /^(.*):(\d+)$/.exec(authority);
  if (portMatch) {
    if (portMatch[2] !== defaultPort) return [url];
    return [url, `${scheme}://${portMatch[1]}${rest}`];
  }
  return [url, `${scheme}://${authority}:${defaultPort}${rest}`];
}
