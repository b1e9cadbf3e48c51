import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, problem, signUp, type TestApp } from '../helpers/app.js';
import { signUpAdmin, type SignedUpAdmin } from '../help/support.js';
import { EMPTY_FEED_TEXT, feedWith, FIXTURE, FIXTURE_TEXT, getFeedText, putFeed, targeted } from './support.js';

let t: TestApp;
let admin: SignedUpAdmin;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signUpAdmin(t);
});
afterAll(async () => {
  await t.close();
});

async function storedRow() {
  return t.db.selectFrom('notice_feed').selectAll().executeTakeFirstOrThrow();
}

describe('the notice feed as stored', () => {
  it('starts empty on a fresh install', async () => {
    expect(await getFeedText(t)).toBe(EMPTY_FEED_TEXT);
  });

  it('accepts the marketplace fixture unchanged and reads it back equal, byte for byte', async () => {
    const res = await putFeed(t, admin.token, FIXTURE_TEXT);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(FIXTURE);
    const text = await getFeedText(t);
    expect(text).toBe(FIXTURE_TEXT.trim());
    expect(JSON.parse(text)).toEqual(FIXTURE);
    const feed = await t.app.inject({ method: 'GET', url: '/v1/notices/feed' });
    expect(feed.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('keeps key order and fields as given', async () => {
    const given = { responsive: [{ usertype: 'client', country: 'US', icon: 'success', message: 'Hi', end: '', start: '' }], global: { icon: 'error', message: '', end: '', start: '' } };
    expect((await putFeed(t, admin.token, given)).statusCode).toBe(200);
    expect(await getFeedText(t)).toBe(JSON.stringify(given));
  });

  it('records who changed it', async () => {
    await putFeed(t, admin.token, feedWith([targeted()]));
    const row = await storedRow();
    expect(row.updated_by).toBe(admin.id);
    const audit = await t.db.selectFrom('audit_events').select(['actor_id']).where('event', '=', 'notices.feed_updated').execute();
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((a) => a.actor_id === admin.id)).toBe(true);
  });
});

describe('feed validation', () => {
  // One case per rule: the feed, and the path of the error it must produce.
  const refused: Array<[string, unknown, string]> = [
    ['a start that is not a time', feedWith([targeted({ start: 'tomorrow' })]), '/responsive/0/start'],
    ['an end that is not a real date', feedWith([targeted({ end: '2026-02-30T00:00:00Z' })]), '/responsive/0/end'],
    ['a time without a zone', feedWith([], { start: '2026-11-20T00:00:00' }), '/global/start'],
    ['a time that is a number', feedWith([targeted({ start: 1763596800 })]), '/responsive/0/start'],
    ['a country that is not an ISO 3166-1 code', feedWith([targeted({ country: 'XX' })]), '/responsive/0/country'],
    ['a country in lower case', feedWith([targeted({ country: 'ph' })]), '/responsive/0/country'],
    ['a country name', feedWith([targeted({ country: 'Philippines' })]), '/responsive/0/country'],
    ['an unknown user type', feedWith([targeted({ usertype: 'admin' })]), '/responsive/0/usertype'],
    ['an unknown icon', feedWith([targeted({ icon: 'danger' })]), '/responsive/0/icon'],
    ['an unknown global icon', feedWith([], { icon: 'alert' }), '/global/icon'],
    ['a message of 501 characters', feedWith([targeted({ message: 'x'.repeat(501) })]), '/responsive/0/message'],
    ['a missing message', feedWith([{ country: 'PH', usertype: 'all', icon: 'info' }]), '/responsive/0/message'],
    ['a start after the end', feedWith([targeted({ start: '2026-11-21T00:00:00Z', end: '2026-11-20T00:00:00Z' })]), '/responsive/0/end'],
    ['a start equal to the end', feedWith([], { message: 'x', start: '2026-11-20T00:00:00Z', end: '2026-11-20T00:00:00Z' }), '/global/end'],
    ['an unknown field', feedWith([targeted({ colour: 'red' })]), '/responsive/0/colour'],
    ['an unknown top-level field', { ...feedWith([]), extra: true }, '/extra'],
    ['a missing global', { responsive: [] }, '/global'],
    ['responsive that is not a list', { global: { message: '', icon: 'info', start: '', end: '' }, responsive: {} }, '/responsive'],
    ['a targeted notice that is not an object', feedWith(['hello']), '/responsive/0'],
    ['a date without a time', feedWith([targeted({ start: '2026-11-20' })]), '/responsive/0/start'],
    ['an hour of 24', feedWith([targeted({ end: '2026-11-20T24:00:00Z' })]), '/responsive/0/end'],
    ['an offset beyond 23 hours', feedWith([targeted({ start: '2026-11-20T00:00:00+24:00' })]), '/responsive/0/start'],
    ['a time that is null', feedWith([], { end: null }), '/global/end'],
    ['a start after the end with offsets', feedWith([targeted({ start: '2026-11-20T10:00:00+08:00', end: '2026-11-20T01:00:00Z' })]), '/responsive/0/end'],
    ['a country "ALL" (only "", "All" and "all" mean every country)', feedWith([targeted({ country: 'ALL' })]), '/responsive/0/country'],
    ['a country that is a number', feedWith([targeted({ country: 63 })]), '/responsive/0/country'],
    ['a missing country', feedWith([{ message: 'm', usertype: 'all', icon: 'info' }]), '/responsive/0/country'],
    ['a user type in capitals', feedWith([targeted({ usertype: 'Freelancer' })]), '/responsive/0/usertype'],
    ['a missing user type', feedWith([{ message: 'm', country: 'PH', icon: 'info' }]), '/responsive/0/usertype'],
    ['a missing icon', feedWith([{ message: 'm', country: 'PH', usertype: 'all' }]), '/responsive/0/icon'],
    ['a message that is a number', feedWith([], { message: 42 }), '/global/message'],
    ['a global message of 501 characters', feedWith([], { message: 'é'.repeat(501) }), '/global/message'],
    ['a country on the global notice', feedWith([], { country: 'PH' }), '/global/country'],
  ];

  it.each(refused)('refuses %s with 422 invalid_feed, and the old feed stays', async (_name, feed, path) => {
    await putFeed(t, admin.token, FIXTURE_TEXT);
    const before = await storedRow();
    const res = await putFeed(t, admin.token, feed);
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(problem(res).code).toBe('invalid_feed');
    const errors = problem(res).errors!;
    expect(errors.map((e) => e.path)).toContain(path);
    expect(errors.every((e) => e.message.length > 10)).toBe(true);
    expect(await storedRow()).toEqual(before);
    expect(await getFeedText(t)).toBe(FIXTURE_TEXT.trim());
  });

  it('lists every error at once, each with its path', async () => {
    const feed = {
      global: { message: 'x'.repeat(600), icon: 'loud', start: 'soon', end: '' },
      responsive: [
        targeted({ country: 'ZZ', usertype: 'boss' }),
        targeted(),
        targeted({ start: '2026-12-01T00:00:00Z', end: '2026-11-01T00:00:00Z', icon: 'nope' }),
      ],
      surprise: 1,
    };
    const res = await putFeed(t, admin.token, feed);
    expect(res.statusCode).toBe(422);
    expect(problem(res).errors!.map((e) => e.path).sort()).toEqual(
      ['/surprise', '/global/message', '/global/icon', '/global/start', '/responsive/0/country', '/responsive/0/usertype', '/responsive/2/icon', '/responsive/2/end'].sort(),
    );
    expect(problem(res).detail).toContain('8 errors');
  });

  it.each([
    ['every country, written three ways, and a country code', ['', 'All', 'all', 'PH', 'US'].map((country) => targeted({ country }))],
    ['every user type', ['all', 'freelancer', 'client', 'agency'].map((usertype) => targeted({ usertype }))],
    ['every icon', ['info', 'warning', 'error', 'success'].map((icon) => targeted({ icon }))],
    ['a message of exactly 500 characters, and 500 emoji', [targeted({ message: 'x'.repeat(500) }), targeted({ message: '🙂'.repeat(500) })]],
    ['empty and missing times', [targeted({ start: '', end: '' }), { message: 'm', country: 'PH', usertype: 'all', icon: 'info' }]],
    ['times with offsets and fractions', [targeted({ start: '2026-11-20T08:00:00+08:00', end: '2026-11-20T10:30:00.250-05:00' }), targeted({ start: '2026-11-20T00:00Z' })]],
  ])('accepts %s', async (_name, responsive) => {
    const feed = feedWith(responsive);
    const res = await putFeed(t, admin.token, feed);
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(await getFeedText(t))).toEqual(feed);
  });

  it('refuses a body that is not JSON, or not an object, with the old feed kept', async () => {
    await putFeed(t, admin.token, FIXTURE_TEXT);
    const cases: Array<[string, string, number]> = [
      ['{"global":', 'application/json', 400],
      ['[]', 'application/json', 400],
      ['"a feed"', 'application/json', 400],
      ['null', 'application/json', 400],
      ['global=x', 'application/x-www-form-urlencoded', 415],
      ['{"global":{}}', 'text/plain', 415],
    ];
    for (const [body, type, status] of cases) {
      const res = await putFeed(t, admin.token, body, { 'content-type': type });
      expect(res.statusCode, `${type} ${body}`).toBe(status);
    }
    expect(await getFeedText(t)).toBe(FIXTURE_TEXT.trim());
  });

  it('is for admins only', async () => {
    const member = await signUp(t);
    const feed = feedWith([targeted()]);
    expect((await putFeed(t, member.token, feed)).statusCode).toBe(403);
    const anonymous = await t.app.inject({ method: 'PUT', url: '/v1/admin/notices/feed', payload: feed });
    expect(anonymous.statusCode).toBe(401);
    const unchanged = await t.app.inject({ method: 'GET', url: '/v1/notices/feed', headers: auth(member.token) });
    expect(unchanged.body).not.toContain('freelancers in the Philippines');
  });
});
