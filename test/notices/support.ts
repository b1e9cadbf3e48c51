import { readFileSync } from 'node:fs';
import { auth, type TestApp } from '../helpers/app.js';

/** The feed exactly as the marketplace published it (a byte-for-byte copy of shared/data/notices-feed.json). */
export const FIXTURE_TEXT = readFileSync(new URL('./fixtures/notices-feed.json', import.meta.url), 'utf8');
export const FIXTURE = JSON.parse(FIXTURE_TEXT) as { global: { message: string } };

export const EMPTY_FEED_TEXT = '{"global":{"message":"","icon":"info","start":"","end":""},"responsive":[]}';

export function putFeed(t: TestApp, token: string, feed: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'PUT',
    url: '/v1/admin/notices/feed',
    headers: { ...auth(token), 'content-type': 'application/json', ...headers },
    payload: typeof feed === 'string' ? feed : JSON.stringify(feed),
  });
}

export async function getFeedText(t: TestApp): Promise<string> {
  const res = await t.app.inject({ method: 'GET', url: '/v1/notices/feed' });
  if (res.statusCode !== 200) throw new Error(`feed: ${res.statusCode}`);
  return res.body;
}

export async function noticesFor(t: TestApp, query: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/notices${query}` });
  if (res.statusCode !== 200) throw new Error(`notices: ${res.statusCode} ${res.body}`);
  return res.json() as Array<{ message: string; icon: string; scope: string }>;
}

/** A targeted notice with every field, for tests to vary one at a time. */
export function targeted(overrides: Record<string, unknown> = {}) {
  return { message: 'Codes are delayed for freelancers in the Philippines.', country: 'PH', usertype: 'freelancer', icon: 'warning', start: '', end: '', ...overrides };
}

export function feedWith(responsive: unknown[], global: Record<string, unknown> = {}) {
  return { global: { message: '', icon: 'info', start: '', end: '', ...global }, responsive };
}
