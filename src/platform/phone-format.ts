import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * An E.164 number as people write it (+44 7400 123456), for pages and messages. Numbers are
 * stored and returned by the API in E.164; only what a person reads is spaced.
 */
export function formatPhone(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
