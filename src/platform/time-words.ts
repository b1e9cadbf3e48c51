/**
 * Past moments said the way people say them ("2 hours ago", "yesterday"), measured against
 * the injected clock's `now`. Intl does the wording, so plurals and "yesterday" are right.
 * Elapsed time decides the unit, not calendar days: the server does not know the member's
 * time zone, and "yesterday" for 25 hours ago is honest in every one of them.
 */
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const longDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function timeAgo(then: Date, now: Date): string {
  // A moment slightly in the future (another process's clock) is still "just now".
  const seconds = Math.max(0, Math.floor((now.getTime() - then.getTime()) / 1000));
  if (seconds < MINUTE) return 'just now';
  if (seconds < HOUR) return relative.format(-Math.floor(seconds / MINUTE), 'minute');
  if (seconds < DAY) return relative.format(-Math.floor(seconds / HOUR), 'hour');
  if (seconds < 7 * DAY) return relative.format(-Math.floor(seconds / DAY), 'day');
  if (seconds < 30 * DAY) return relative.format(-Math.floor(seconds / (7 * DAY)), 'week');
  return `on ${longDate.format(then)}`;
}

/** The exact moment for a tooltip or a machine: "2026-11-23 12:00 UTC". */
export function exactUtc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
