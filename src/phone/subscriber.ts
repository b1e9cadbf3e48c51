/**
 * One line, one key. Some numbering plans write the same subscriber's line in two forms, and
 * "one account per number" must hold for the line, not for the string:
 *
 * - Argentina (+54): a mobile is dialled from abroad with a 9 after the country code
 *   (+54 9 11 2345 6789) and written without it at home and by many carriers
 *   (+54 11 2345 6789). National numbers have 10 digits; the 9 makes 11.
 * - Mexico (+52): mobiles used to take a 1 after the country code (+52 1 55 1234 5678);
 *   since 2019 the plan has no 1 (+52 55 1234 5678) and the old form reaches the same line.
 *
 * The key is the number in E.164 without that prefix. migrations/0007_phone_subscriber.ts
 * holds a frozen SQL copy of these rules for the backfill.
 */
interface PrefixRule {
  /** The country calling code, without +. */
  callingCode: string;
  /** The digit written between the calling code and the national number in one of the forms. */
  prefix: string;
  /** Digits of the national number without the prefix. */
  nationalDigits: number;
  /** The plan no longer has the prefix (numbers with it are invalid to libphonenumber). */
  retired: boolean;
}

const rules: readonly PrefixRule[] = [
  { callingCode: '54', prefix: '9', nationalDigits: 10, retired: false },
  { callingCode: '52', prefix: '1', nationalDigits: 10, retired: true },
];

function ruleFor(e164: string): PrefixRule | undefined {
  return rules.find((r) => e164.startsWith(`+${r.callingCode}${r.prefix}`) && e164.length === 2 + r.callingCode.length + r.nationalDigits);
}

function strip(e164: string, rule: PrefixRule): string {
  return `+${rule.callingCode}${e164.slice(2 + rule.callingCode.length)}`;
}

/** The canonical key of the line an E.164 number reaches. */
export function subscriberKey(e164: string): string {
  const rule = ruleFor(e164);
  return rule ? strip(e164, rule) : e164;
}

/**
 * The number in the form the plan still uses, for a prefix the plan has retired (Mexico's
 * "1"): libphonenumber refuses +52 1 55… as invalid, but a member who types it means
 * +52 55…. Argentina's 9 is still part of the plan (it marks a mobile), so it is kept.
 */
export function withoutRetiredPrefix(e164: string): string {
  const rule = ruleFor(e164);
  return rule?.retired ? strip(e164, rule) : e164;
}
