import { isCountryCode } from '../platform/countries.js';
import type { FieldError } from '../platform/errors.js';
import type { Role } from '../platform/db/schema.js';

/** Account field rules, shared by the API schemas, the service and the pages. */
export const USERNAME_PATTERN = '^[A-Za-z0-9._-]{3,30}$';
const usernameRe = new RegExp(USERNAME_PATTERN);
export const ROLES: readonly Role[] = ['freelancer', 'client', 'agency'];
export const EMAIL_MAX = 254;
export const FULL_NAME_MAX = 100;

// Practical address syntax: one @, a dotted domain, no spaces or control characters.
const emailRe = /^[^\s@<>()[\]\\,;:"\p{Cc}]{1,64}@(?=.{1,253}$)([A-Za-z0-9\p{L}](?:[A-Za-z0-9\p{L}-]{0,61}[A-Za-z0-9\p{L}])?\.)+[A-Za-z\p{L}]{2,63}$/u;

export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC');
}

export function checkEmail(email: string, errors: FieldError[], path = '/email'): void {
  if (email.length > EMAIL_MAX || !emailRe.test(email)) {
    errors.push({ path, message: 'Enter a valid e-mail address, like name@example.com.' });
  }
}

export function checkUsername(username: string, errors: FieldError[]): void {
  if (!usernameRe.test(username)) {
    errors.push({ path: '/username', message: 'Use 3 to 30 letters, digits, dots, underscores or hyphens.' });
  }
}

export function checkCountry(country: string, errors: FieldError[]): void {
  if (!isCountryCode(country)) {
    errors.push({ path: '/country', message: 'Choose a country (a two-letter ISO 3166-1 code such as PH or US).' });
  }
}

export function checkRoles(roles: readonly string[], errors: FieldError[]): Role[] {
  const unique = [...new Set(roles)];
  if (unique.length === 0) errors.push({ path: '/roles', message: 'Choose at least one role: freelancer, client or agency.' });
  for (const role of unique) {
    if (!(ROLES as readonly string[]).includes(role)) {
      errors.push({ path: '/roles', message: `Unknown role "${role}": use freelancer, client or agency.` });
    }
  }
  return unique.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
}

export function checkFullName(fullName: string, errors: FieldError[]): void {
  if (fullName.length > FULL_NAME_MAX || /\p{Cc}/u.test(fullName)) {
    errors.push({ path: '/fullName', message: `Use at most ${FULL_NAME_MAX} characters, without control characters.` });
  }
}
