import {
  isSupportedCountry,
  parsePhoneNumberWithError,
  ParseError,
  validatePhoneNumberLength,
  type CountryCode,
  type NumberType,
  type PhoneNumber,
} from 'libphonenumber-js/max';
import { countryOptions } from '../platform/countries.js';
import { AppError } from '../platform/errors.js';
import { withoutRetiredPrefix } from './subscriber.js';

/** A number read from member input, in E.164, with what the numbering plan says of it. */
export interface ParsedPhone {
  e164: string;
  /** ISO 3166-1 alpha-2 region of the number; null for non-geographic numbers (+800, +882...). */
  country: string | null;
  /** The numbering plan's line type; undefined when the plan cannot tell. */
  type: NumberType;
}

/** Input longer than this is not a phone number; it also bounds the parser's work. */
export const PHONE_INPUT_MAX = 40;

/**
 * Reads a number typed by a member: international (+63 917 123 4567, or 00 63...) or national
 * (0917 123 4567) in `country` (the form's choice, else the account's). Anything that is not
 * a valid number of the plan is refused with a sentence that says what is wrong.
 */
export function parsePhone(input: string, country: string | undefined): ParsedPhone {
  const text = input.trim();
  if (text === '') throw phoneInvalid('Enter your phone number.');
  if (text.length > PHONE_INPUT_MAX) throw phoneInvalid('This is too long to be a phone number.');
  if (/[A-Za-z]/.test(text.replace(/^tel:/i, '').replace(/\s*(?:ext\.?|x)\s*\d+$/i, ''))) {
    throw phoneInvalid('A phone number has only digits, spaces, dashes or brackets, and may start with +.');
  }
  const region = country && isSupportedCountry(country) ? (country as CountryCode) : undefined;
  // The country only matters to a national number: "+63 917…" reads the same for an account
  // in Antarctica (a country the numbering plan has no numbers for) as for one in Manila.
  const international = /^(?:tel:)?\s*(?:\+|00)/i.test(text);
  if (country && !region && !international) {
    throw phoneInvalid(`We can't read national numbers of ${countryName(country)}: type the number with + and its country code.`);
  }

  let parsed: PhoneNumber;
  try {
    parsed = read(text, region);
  } catch (error) {
    throw phoneInvalid(parseErrorSentence(error, text, region));
  }
  if (parsed.ext) throw phoneInvalid('Enter the number without an extension: codes cannot reach an extension.');
  const current = withoutRetiredPrefix(parsed.number);
  if (current !== parsed.number) parsed = parsePhoneNumberWithError(current);
  if (!parsed.isValid()) throw phoneInvalid(invalidSentence(parsed));
  return { e164: parsed.number, country: parsed.country ?? null, type: parsed.getType() };
}

/**
 * "00 63 917…" is international in most of the world, but not where the international
 * prefix is another (011 in North America, 0011 in Australia): a number that starts with 00
 * and is not valid as dialled in `region` is read with + instead.
 */
function read(text: string, region: CountryCode | undefined): PhoneNumber {
  const options = region ? { defaultCountry: region } : {};
  const plus = text.replace(/^((?:tel:)?\s*)00/i, '$1+');
  if (plus === text) return parsePhoneNumberWithError(text, options);
  if (region) {
    try {
      const asDialled = parsePhoneNumberWithError(text, options);
      if (asDialled.isValid()) return asDialled;
    } catch {
      // Read it with + below.
    }
  }
  return parsePhoneNumberWithError(plus, options);
}

function parseErrorSentence(error: unknown, text: string, region: CountryCode | undefined): string {
  const reason = error instanceof ParseError ? error.message : 'NOT_A_NUMBER';
  const international = /^\s*(\+|00)/.test(text);
  switch (reason) {
    case 'INVALID_COUNTRY':
      if (international) {
        const code = /^\s*(?:\+|00)\s*(\d{1,3})/.exec(text)?.[1];
        return code ? `The country code +${code} is not in use: check the digits after the +.` : 'Type a country code after the +.';
      }
      return 'Choose the country of this number, or type it with + and the country code.';
    case 'TOO_SHORT':
      return region && !international ? `This number is too short for ${countryName(region)}.` : 'This number is too short.';
    case 'TOO_LONG':
      return 'This number is too long.';
    default:
      return 'This is not a phone number: use digits, optionally starting with + and the country code.';
  }
}

/** Parsed but not a number of the plan: say whether the length or the digits are wrong. */
function invalidSentence(parsed: PhoneNumber): string {
  const where = parsed.country ? countryName(parsed.country) : `the +${parsed.countryCallingCode} numbering plan`;
  switch (validatePhoneNumberLength(parsed.number)) {
    case 'TOO_SHORT':
      return `This number is too short for ${where}.`;
    case 'TOO_LONG':
      return `This number is too long for ${where}.`;
    case 'INVALID_LENGTH':
      return `This number has the wrong number of digits for ${where}.`;
    case 'INVALID_COUNTRY':
      return `The country code +${parsed.countryCallingCode} is not in use: check the digits after the +.`;
    default:
      return `This is not a number in use in ${where}: check the digits (and the country).`;
  }
}

const names = new Map(countryOptions.map((c) => [c.code, c.name]));
export function countryName(code: string): string {
  return names.get(code) ?? code;
}

function phoneInvalid(detail: string): AppError {
  return new AppError('phone_invalid', { detail });
}
