import type { FakeResource } from './fake-twilio.js';

export const MESSAGE_LEFT = new Set(['sending', 'sent', 'delivered', 'undelivered', 'read']);
export const CALL_DIALLED = new Set(['ringing', 'in-progress', 'completed', 'busy', 'no-answer']);

export function rfc2822(at: Date): string {
  return at.toUTCString().replace('GMT', '+0000');
}

/**
 * Twilio's date filters: `DateSent=YYYY-MM-DD` that GMT day; `DateSent>=D` (sent as the
 * parameter "DateSent>") on or after midnight starting D; `DateSent<=D` on or before D.
 * A resource without the date (not sent, not dialled) matches no date filter.
 */
function dateFilter(at: Date | null, q: URLSearchParams, name: string): boolean {
  const on = q.get(name);
  const after = q.get(`${name}>`);
  const before = q.get(`${name}<`);
  if (on === null && after === null && before === null) return true;
  if (!at) return false;
  const day = (value: string) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value).getTime();
  const t = at.getTime();
  const DAY = 86_400_000;
  if (on !== null && !(t >= day(on) && t < day(on) + DAY)) return false;
  if (after !== null && !(t >= day(after))) return false;
  if (before !== null && !(t < day(before) + DAY)) return false;
  return true;
}

/** GET …/Messages.json or …/Calls.json: filtered, newest first, one page of it, shaped as Twilio's. */
export function listPage(resources: FakeResource[], kind: 'message' | 'call', url: URL, trial: boolean) {
  const q = url.searchParams;
  const dateParam = kind === 'message' ? 'DateSent' : 'StartTime';
  const key = kind === 'message' ? 'messages' : 'calls';
  const matches = resources
    .filter((r) => (!q.has('To') || r.form.get('To') === q.get('To')) && (!q.has('From') || r.form.get('From') === q.get('From')))
    .filter((r) => dateFilter(r.listedAt, q, dateParam))
    .sort((a, b) => (b.listedAt ?? b.createdAt).getTime() - (a.listedAt ?? a.createdAt).getTime());
  const pageSize = Math.min(1000, Math.max(1, Number(q.get('PageSize') ?? 50) || 50));
  const page = Math.max(0, Number(q.get('Page') ?? 0) || 0);
  // PageToken names the last resource of the page before: "PA" + its SID.
  const token = q.get('PageToken');
  const start = token ? matches.findIndex((r) => `PA${r.sid}` === token) + 1 : page * pageSize;
  const items = matches.slice(start, start + pageSize);
  const base = url.pathname;
  const filters = new URLSearchParams([...q].filter(([name]) => !['Page', 'PageSize', 'PageToken'].includes(name)));
  const uriFor = (n: number, pageToken?: string) => {
    const params = new URLSearchParams(filters);
    params.set('PageSize', String(pageSize));
    params.set('Page', String(n));
    if (pageToken) params.set('PageToken', pageToken);
    return `${base}?${params.toString()}`;
  };
  const more = start + pageSize < matches.length;
  return {
    [key]: items.map((r) => listed(r, trial)),
    end: start + items.length - 1,
    first_page_uri: uriFor(0),
    next_page_uri: more ? uriFor(page + 1, `PA${items.at(-1)!.sid}`) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 ? uriFor(page - 1) : null,
    start,
    uri: uriFor(page, token ?? undefined),
  };
}

/** A resource as a list shows it (a trial account's bodies carry Twilio's prefix). */
function listed(r: FakeResource, trial: boolean): Record<string, unknown> {
  if (r.kind !== 'message' || !trial) return r.json;
  return { ...r.json, body: `Sent from your Twilio trial account - ${String(r.json.body)}` };
}

