import type { NumberType } from 'libphonenumber-js/max';
import { AppError } from '../platform/errors.js';
import { countryName, type ParsedPhone } from './parse.js';

/**
 * Which numbers may prove a person. A verification code must reach a phone a person holds:
 * VoIP numbers are refused (anyone can get a hundred), and so are numbers that are not one
 * subscriber's line. Landlines are accepted, but can only take a voice call.
 */
export type LineType = Exclude<NumberType, undefined> | 'UNKNOWN' | 'M2M';

/** What an operator-listed range holds (phone_voip_ranges.kind). */
export type RangeKind = 'voip' | 'm2m';

export interface Verdict {
  lineType: LineType;
  /** True for landlines: the code is read out by a call, never texted. */
  voiceOnly: boolean;
}

const accepted: Partial<Record<LineType, Verdict>> = {
  MOBILE: { lineType: 'MOBILE', voiceOnly: false },
  FIXED_LINE_OR_MOBILE: { lineType: 'FIXED_LINE_OR_MOBILE', voiceOnly: false },
  FIXED_LINE: { lineType: 'FIXED_LINE', voiceOnly: true },
};

/** Why each refused type cannot prove a person, in words a member understands. */
const refusedTypes: Partial<Record<LineType, string>> = {
  TOLL_FREE: 'This is a toll-free number',
  PREMIUM_RATE: 'This is a premium-rate number',
  SHARED_COST: 'This is a shared-cost number',
  PAGER: 'This is a pager number',
  UAN: 'This is a company switchboard (universal access) number',
  PERSONAL_NUMBER: 'This is a personal forwarding number',
  VOICEMAIL: 'This is a voicemail access number',
  UNKNOWN: 'We cannot tell what kind of line this number is',
};

/** The numbering plan's verdict on a parsed number: accepted, or a refusal thrown. */
export function planVerdict(phone: ParsedPhone): Verdict {
  return verdictFor(phone.type ?? 'UNKNOWN');
}

export function verdictFor(lineType: LineType): Verdict {
  if (lineType === 'VOIP') throw voipRefusal();
  const ok = accepted[lineType];
  if (ok) return ok;
  throw typeUnsupported(lineType);
}

const USE_INSTEAD = 'Please use a mobile number (or a landline, by voice call).';

function typeUnsupported(lineType: LineType): AppError {
  const why = refusedTypes[lineType] ?? refusedTypes.UNKNOWN!;
  const detail = lineType === 'M2M'
    // It may well receive texts; what it cannot do is stand for a person.
    ? `This is a machine-to-machine number, issued to a device (a meter, a car, an alarm) rather than to a person, so it cannot prove that an account is yours. ${USE_INSTEAD}`
    : `${why}, which cannot receive verification codes. ${USE_INSTEAD}`;
  return new AppError('phone_type_unsupported', { detail, extra: { lineType } });
}

export function voipRefusal(): AppError {
  return new AppError('phone_voip', { extra: { lineType: 'VOIP' } });
}

/** A number in an operator-listed range (voip-ranges.ts): refused as VoIP, or as M2M (lineType "M2M"). */
export function rangeRefusal(kind: RangeKind): AppError {
  return kind === 'voip' ? voipRefusal() : typeUnsupported('M2M');
}

/**
 * A carrier lookup's line type (Twilio Lookup v2 names) as a numbering-plan type;
 * null when the carrier gives no usable answer, so the plan's verdict stands.
 */
const carrierTypes: Record<string, LineType> = {
  mobile: 'MOBILE',
  landline: 'FIXED_LINE',
  fixedVoip: 'VOIP',
  nonFixedVoip: 'VOIP',
  tollFree: 'TOLL_FREE',
  premium: 'PREMIUM_RATE',
  sharedCost: 'SHARED_COST',
  uan: 'UAN',
  voicemail: 'VOICEMAIL',
  pager: 'PAGER',
  personal: 'PERSONAL_NUMBER',
};

export function carrierLineType(reported: string | null): LineType | null {
  return reported && Object.hasOwn(carrierTypes, reported) ? carrierTypes[reported]! : null;
}

/**
 * Combines the plan's verdict (already accepted) with the carrier's answer. The carrier
 * knows ported numbers and VoIP ranges the plan cannot see, so any refusal it reports wins;
 * an accepted carrier type also decides between text and voice (a "fixed line" prefix that
 * the carrier reports as mobile may take texts).
 */
export function withCarrier(plan: Verdict, reported: string | null): Verdict {
  const carrier = carrierLineType(reported);
  return carrier ? verdictFor(carrier) : plan;
}

/** PHONE_ALLOWED_COUNTRIES: codes go only to numbers of the listed countries. */
export function checkCountryAllowed(phone: ParsedPhone, allowed: ReadonlySet<string> | null): void {
  if (!allowed) return;
  if (phone.country && allowed.has(phone.country)) return;
  const where = phone.country ? `numbers in ${countryName(phone.country)}` : 'numbers without a country';
  throw new AppError('phone_country_unsupported', {
    detail: `We can't send verification codes to ${where} yet; please use a number from a country we serve.`,
    extra: { country: phone.country },
  });
}
