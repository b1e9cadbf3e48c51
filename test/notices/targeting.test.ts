import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { signUpAdmin, type SignedUpAdmin } from '../help/support.js';
import { feedWith, FIXTURE, FIXTURE_TEXT, noticesFor, putFeed, targeted } from './support.js';

let t: TestApp;
let admin: SignedUpAdmin;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signUpAdmin(t);
});
afterAll(async () => {
  await t.close();
});

async function publish(feed: unknown) {
  const res = await putFeed(t, admin.token, feed);
  if (res.statusCode !== 200) throw new Error(`feed refused: ${res.body}`);
}

const messages = (list: Array<{ message: string }>) => list.map((n) => n.message);

describe('who sees which notice', () => {
  it('shows a targeted notice to its country and user type only', async () => {
    await publish(feedWith([targeted({ message: 'PH freelancers' })]));
    expect(await noticesFor(t, '?country=PH&usertype=freelancer')).toEqual([{ message: 'PH freelancers', icon: 'warning', scope: 'targeted' }]);
    expect(await noticesFor(t, '?country=ph&usertype=client,freelancer')).toHaveLength(1);
    expect(await noticesFor(t, '?country=PH&usertype=client')).toEqual([]);
    expect(await noticesFor(t, '?country=US&usertype=freelancer')).toEqual([]);
    expect(await noticesFor(t, '?country=PH')).toEqual([]);
    expect(await noticesFor(t, '?usertype=freelancer')).toEqual([]);
  });

  it.each(['', 'All', 'all'])('treats country %j as every country', async (country) => {
    await publish(feedWith([targeted({ country, usertype: 'client', message: 'Every country' })]));
    expect(messages(await noticesFor(t, '?country=US&usertype=client'))).toEqual(['Every country']);
    expect(messages(await noticesFor(t, '?usertype=client'))).toEqual(['Every country']);
    expect(await noticesFor(t, '?country=US&usertype=agency')).toEqual([]);
  });

  it('treats user type "all" as everyone, signed in or not', async () => {
    await publish(feedWith([targeted({ usertype: 'all', message: 'Everyone in PH' })]));
    expect(messages(await noticesFor(t, '?country=PH'))).toEqual(['Everyone in PH']);
    expect(messages(await noticesFor(t, '?country=PH&usertype=agency'))).toEqual(['Everyone in PH']);
    expect(await noticesFor(t, '?country=US')).toEqual([]);
  });

  it('shows the global notice to everyone, first, then the targeted ones in feed order', async () => {
    await publish(feedWith([targeted({ message: 'B' }), targeted({ message: 'A', country: 'all', usertype: 'all', icon: 'error' })], { message: 'Global', icon: 'success' }));
    expect(await noticesFor(t, '?country=PH&usertype=freelancer')).toEqual([
      { message: 'Global', icon: 'success', scope: 'global' },
      { message: 'B', icon: 'warning', scope: 'targeted' },
      { message: 'A', icon: 'error', scope: 'targeted' },
    ]);
    expect(messages(await noticesFor(t, ''))).toEqual(['Global', 'A']);
  });

  it('never shows an empty (or blank) message', async () => {
    await publish(feedWith([targeted({ message: '' }), targeted({ message: '   ' }), targeted({ message: 'Real' })], { message: ' ' }));
    expect(messages(await noticesFor(t, '?country=PH&usertype=freelancer'))).toEqual(['Real']);
  });

  it('refuses a malformed query', async () => {
    for (const query of ['?country=PHL', '?country=P1', '?usertype=boss', '?usertype=freelancer,,client']) {
      expect((await t.app.inject({ method: 'GET', url: `/v1/notices${query}` })).statusCode, query).toBe(400);
    }
  });
});

describe('time windows (injected clock)', () => {
  it('shows a notice from its start (inclusive) until its end (exclusive)', async () => {
    t.clock.set('2026-11-19T23:59:59Z');
    await publish(feedWith([targeted({ message: 'Window', start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00+00:00' })]));
    const query = '?country=PH&usertype=freelancer';
    expect(await noticesFor(t, query)).toEqual([]); // before start
    t.clock.set('2026-11-20T00:00:00Z');
    expect(messages(await noticesFor(t, query))).toEqual(['Window']); // at start
    t.clock.set('2026-11-20T23:59:59Z');
    expect(messages(await noticesFor(t, query))).toEqual(['Window']);
    t.clock.set('2026-11-21T00:00:00Z');
    expect(await noticesFor(t, query)).toEqual([]); // at end
    t.clock.set('2026-12-25T00:00:00Z');
    expect(await noticesFor(t, query)).toEqual([]); // after end
  });

  it('understands time zone offsets', async () => {
    t.clock.set('2026-11-20T00:30:00Z'); // 08:30 in Manila
    await publish(feedWith([targeted({ message: 'Manila 9am', start: '2026-11-20T09:00:00+08:00' })]));
    expect(await noticesFor(t, '?country=PH&usertype=freelancer')).toEqual([]);
    t.clock.set('2026-11-20T01:00:00Z');
    expect(messages(await noticesFor(t, '?country=PH&usertype=freelancer'))).toEqual(['Manila 9am']);
  });

  it('keeps an open-ended notice: no end, no start, or neither', async () => {
    t.clock.set('2026-11-20T00:00:00Z');
    await publish(
      feedWith(
        [
          targeted({ message: 'From tomorrow, for good', start: '2026-11-21T00:00:00Z', end: '' }),
          targeted({ message: 'Until tomorrow', start: '', end: '2026-11-21T00:00:00Z' }),
          { message: 'No times at all', country: 'PH', usertype: 'freelancer', icon: 'info' },
        ],
        { message: 'Global until next year', end: '2027-01-01T00:00:00Z' },
      ),
    );
    const query = '?country=PH&usertype=freelancer';
    expect(messages(await noticesFor(t, query))).toEqual(['Global until next year', 'Until tomorrow', 'No times at all']);
    t.clock.set('2030-01-01T00:00:00Z');
    expect(messages(await noticesFor(t, query))).toEqual(['From tomorrow, for good', 'No times at all']);
    t.clock.set('2020-01-01T00:00:00Z');
    expect(messages(await noticesFor(t, query))).toEqual(['Global until next year', 'Until tomorrow', 'No times at all']);
  });
});

describe('the marketplace fixture', () => {
  it('shows its global message to everyone, and never an empty banner', async () => {
    await publish(JSON.parse(FIXTURE_TEXT));
    const expected = [{ message: FIXTURE.global.message, icon: 'info', scope: 'global' }];
    for (const query of ['', '?country=PH&usertype=freelancer', '?country=US&usertype=client', '?country=DE&usertype=agency', '?usertype=all']) {
      expect(await noticesFor(t, query), query).toEqual(expected);
    }
  });
});
