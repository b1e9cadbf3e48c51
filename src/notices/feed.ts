import { isCountryCode } from '../platform/countries.js';
import type { FieldError } from '../platform/errors.js';

/**
 * The notice feed, in the marketplace's shape (docs/RULES.md): one global message and a list of
 * targeted ("responsive") ones. Blank times mean open-ended; a blank country, "All" or "all"
 * means every country.
 */
export const ICONS = ['info', 'warning', 'error', 'success'] as const;
export const USER_TYPES = ['all', 'freelancer', 'client', 'agency'] as const;
export const ALL_COUNTRIES = ['', 'All', 'all'] as const;
export const MESSAGE_MAX = 500;
export const RESPONSIVE_MAX = 1000;

export type Icon = (typeof ICONS)[number];
export type UserType = (typeof USER_TYPES)[number];

export interface FeedMessage {
  message: string;
  icon: Icon;
  start?: string;
  end?: string;
}

export interface TargetedMessage extends FeedMessage {
  country: string;
  usertype: UserType;
}

export interface Feed {
  global: FeedMessage;
  responsive: TargetedMessage[];
}

export const EMPTY_FEED: Feed = { global: { message: '', icon: 'info', start: '', end: '' }, responsive: [] };

const GLOBAL_FIELDS = ['message', 'icon', 'start', 'end'];
const TARGETED_FIELDS = ['message', 'country', 'usertype', 'icon', 'start', 'end'];
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):?(\d{2}))$/;

/** Milliseconds since the epoch of an ISO 8601 time with a zone; null if it is not one (or not a real date). */
export function parseIsoTime(value: string): number | null {
  const m = ISO_TIME.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(year, month - 1, day, hour, minute, second) + Math.round(Number(m[7] ?? 0) * 1000);
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  if (check.getUTCHours() !== hour || check.getUTCMinutes() !== minute || check.getUTCSeconds() !== second) return null;
  if (m[8] === 'Z') return local;
  const offsetHours = Number(m[10]);
  const offsetMinutes = Number(m[11]);
  if (offsetHours > 23 || offsetMinutes > 59) return null;
  const sign = m[9] === '-' ? -1 : 1;
  return local - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quote(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 60) ?? String(value);
}

function checkMessage(entry: Record<string, unknown>, path: string, fields: string[], errors: FieldError[]): void {
  for (const key of Object.keys(entry)) {
    if (!fields.includes(key)) errors.push({ path: `${path}/${key}`, message: `Unknown field "${key}"; a notice has ${fields.join(', ')}.` });
  }
  const { message, icon } = entry;
  if (typeof message !== 'string') errors.push({ path: `${path}/message`, message: 'The message must be a string ("" for none).' });
  else if ([...message].length > MESSAGE_MAX) errors.push({ path: `${path}/message`, message: `The message must be at most ${MESSAGE_MAX} characters (it has ${[...message].length}).` });
  if (!ICONS.includes(icon as Icon)) errors.push({ path: `${path}/icon`, message: `The icon must be one of ${ICONS.join(', ')} (got ${quote(icon)}).` });

  const times: Record<'start' | 'end', number | null> = { start: null, end: null };
  for (const key of ['start', 'end'] as const) {
    const value = entry[key];
    if (value === undefined || value === '') continue;
    const at = typeof value === 'string' ? parseIsoTime(value) : null;
    if (at === null) errors.push({ path: `${path}/${key}`, message: `The ${key} must be an ISO 8601 time with a zone, like "2026-11-20T00:00:00Z", or "" (got ${quote(value)}).` });
    times[key] = at;
  }
  if (times.start !== null && times.end !== null && times.start >= times.end) {
    errors.push({ path: `${path}/end`, message: 'The end must be after the start.' });
  }
}

function checkTargeted(entry: Record<string, unknown>, path: string, errors: FieldError[]): void {
  checkMessage(entry, path, TARGETED_FIELDS, errors);
  const { country, usertype } = entry;
  if (typeof country !== 'string' || !((ALL_COUNTRIES as readonly string[]).includes(country) || isCountryCode(country))) {
    errors.push({ path: `${path}/country`, message: `The country must be an ISO 3166-1 alpha-2 code such as "PH", or "", "All" or "all" for every country (got ${quote(country)}).` });
  }
  if (!USER_TYPES.includes(usertype as UserType)) {
    errors.push({ path: `${path}/usertype`, message: `The user type must be one of ${USER_TYPES.join(', ')} (got ${quote(usertype)}).` });
  }
}

/** Every problem with a proposed feed, each with its JSON pointer; empty when the feed is valid. */
export function validateFeed(value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  if (!isObject(value)) return [{ path: '/', message: 'The feed must be a JSON object with "global" and "responsive".' }];
  for (const key of Object.keys(value)) {
    if (key !== 'global' && key !== 'responsive') errors.push({ path: `/${key}`, message: `Unknown field "${key}"; the feed has "global" and "responsive".` });
  }
  if (!isObject(value.global)) errors.push({ path: '/global', message: 'The global notice must be an object with message, icon, start and end.' });
  else checkMessage(value.global, '/global', GLOBAL_FIELDS, errors);

  const list = value.responsive;
  if (!Array.isArray(list)) errors.push({ path: '/responsive', message: 'The targeted notices must be a list ([] for none).' });
  else if (list.length > RESPONSIVE_MAX) errors.push({ path: '/responsive', message: `At most ${RESPONSIVE_MAX} targeted notices.` });
  else {
    list.forEach((entry, i) => {
      if (!isObject(entry)) errors.push({ path: `/responsive/${i}`, message: 'Each targeted notice must be an object.' });
      else checkTargeted(entry, `/responsive/${i}`, errors);
    });
  }
  return errors;
}
