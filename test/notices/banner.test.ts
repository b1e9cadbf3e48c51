import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { grantAdmin, signUpAdmin, type SignedUpAdmin } from '../help/support.js';
import { signUpByForm, Visitor } from '../pages/form.js';
import { feedWith, FIXTURE, FIXTURE_TEXT, getFeedText, putFeed, targeted } from './support.js';

let t: TestApp;
let admin: SignedUpAdmin;
beforeAll(async () => {
  t = await createTestApp({ env: { COUNTRY_HEADER: 'x-edge-country' } });
  admin = await signUpAdmin(t);
});
afterAll(async () => {
  await t.close();
});

/** The banners a page shows: [scope, icon, message]. */
function banners(html: string): Array<[string, string, string]> {
  return [...html.matchAll(/<div class="notice notice-(\w+)"[^>]*data-scope="(\w+)">[\s\S]*?<p>([\s\S]*?)<\/p>/g)].map((m) => [m[2]!, m[1]!, m[3]!]);
}

const phFreelancers = feedWith([targeted({ message: 'Withdrawal codes are delayed in the Philippines.' })], { message: 'Scheduled maintenance on Sunday.' });

describe('notice banners on every page', () => {
  it('show the targeted notice to a signed-in PH freelancer and not to a US client', async () => {
    await putFeed(t, admin.token, phFreelancers);
    const { visitor: freelancer } = await signUpByForm(t, { country: 'PH', roles: ['freelancer'] });
    const { visitor: client } = await signUpByForm(t, { country: 'US', roles: ['client'] });
    for (const url of ['/', '/account', '/help', '/help/lost-phone']) {
      expect(banners((await freelancer.get(url)).body), url).toEqual([
        ['global', 'info', 'Scheduled maintenance on Sunday.'],
        ['targeted', 'warning', 'Withdrawal codes are delayed in the Philippines.'],
      ]);
      expect(banners((await client.get(url)).body), url).toEqual([['global', 'info', 'Scheduled maintenance on Sunday.']]);
    }
  });

  it('use the edge country header (configurable) for visitors who are not signed in', async () => {
    await putFeed(t, admin.token, feedWith([targeted({ usertype: 'all', message: 'Everyone in PH' })]));
    const visitor = new Visitor(t);
    const from = (country: string) => t.app.inject({ method: 'GET', url: '/help', headers: { 'x-edge-country': country } });
    expect(banners((await from('PH')).body)).toEqual([['targeted', 'warning', 'Everyone in PH']]);
    expect(banners((await from('US')).body)).toEqual([]);
    expect(banners((await t.app.inject({ method: 'GET', url: '/help', headers: { 'cf-ipcountry': 'PH' } })).body)).toEqual([]);
    expect(banners((await visitor.get('/')).body)).toEqual([]);
  });

  it('read the edge header named by COUNTRY_HEADER, refusing a name that is not a header at start', () => {
    expect(loadConfig({}).countryHeader).toBe('cf-ipcountry');
    expect(loadConfig({ COUNTRY_HEADER: 'X-Edge-Country' }).countryHeader).toBe('x-edge-country');
    for (const bad of ['CF IPCountry', 'x-country:', 'país', 'a\nb']) {
      expect(() => loadConfig({ COUNTRY_HEADER: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ COUNTRY_HEADER: bad }), bad).toThrow(/COUNTRY_HEADER/);
    }
  });

  it('ignore an edge header that is not a two-letter code', async () => {
    await putFeed(t, admin.token, feedWith([targeted({ usertype: 'all', country: 'PH', message: 'Everyone in PH' })]));
    for (const value of ['PHL', 'P1', '', 'PH, US', 'XX']) {
      const res = await t.app.inject({ method: 'GET', url: '/help', headers: { 'x-edge-country': value } });
      expect(res.statusCode, value).toBe(200);
      expect(banners(res.body), value).toEqual([]);
    }
    const lower = await t.app.inject({ method: 'GET', url: '/help', headers: { 'x-edge-country': 'ph' } });
    expect(banners(lower.body)).toEqual([['targeted', 'warning', 'Everyone in PH']]);
  });

  it('show the fixture as one global banner and no empty banner', async () => {
    await putFeed(t, admin.token, FIXTURE_TEXT);
    const visitor = new Visitor(t);
    // Every page, error pages included, for a visitor from anywhere.
    for (const url of ['/', '/login', '/signup', '/help', '/help?q=code', '/help/code-not-received', '/no-such-page', '/help/no-such-article']) {
      const page = await visitor.get(url);
      expect(page.headers['content-type'], url).toContain('text/html');
      expect(banners(page.body), url).toEqual([['global', 'info', FIXTURE.global.message]]);
      expect(page.body.match(/class="notice /g), url).toHaveLength(1);
      expect(page.body, url).toContain('<span class="notice-icon icon-info" aria-hidden="true"></span>');
    }
    for (const country of ['PH', 'US', 'DE']) {
      const res = await t.app.inject({ method: 'GET', url: '/', headers: { 'x-edge-country': country } });
      expect(banners(res.body), country).toEqual([['global', 'info', FIXTURE.global.message]]);
    }
  });

  it('show no banner section at all while the feed has nothing to show', async () => {
    await putFeed(t, admin.token, feedWith([targeted({ message: '' })], { message: '' }));
    const page = await new Visitor(t).get('/');
    expect(page.body).not.toContain('class="notices"');
    expect(page.body).not.toContain('class="notice ');
  });

  it('escape the message', async () => {
    await putFeed(t, admin.token, feedWith([], { message: '<img src=x onerror=alert(1)> & more' }));
    const page = await new Visitor(t).get('/');
    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; more');
  });
});

describe('the /admin/notices page', () => {
  it('lets an admin edit the feed as JSON, listing every error and keeping the input', async () => {
    const { visitor, user } = await signUpByForm(t);
    const me = await t.db.selectFrom('accounts').select('id').where('username', '=', user.username).executeTakeFirstOrThrow();
    await grantAdmin(t, me.id);
    await putFeed(t, admin.token, FIXTURE_TEXT);

    expect((await visitor.get('/admin')).body).toContain('href="/admin/notices"');
    const page = await visitor.get('/admin/notices');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('We are currently looking into some reports');

    const broken = JSON.stringify(feedWith([targeted({ country: 'XX', icon: 'loud' })]), null, 2);
    const refused = await visitor.post('/admin/notices', { feed: broken });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('<code>/responsive/0/country</code>');
    expect(refused.body).toContain('<code>/responsive/0/icon</code>');
    expect(refused.body).toContain('&quot;XX&quot;'); // the input is kept in the textarea
    expect(await getFeedText(t)).toBe(FIXTURE_TEXT.trim());

    const notJson = await visitor.post('/admin/notices', { feed: '{ nope' });
    expect(notJson.statusCode).toBe(422);
    expect(notJson.body).toContain('This is not valid JSON');

    const saved = await visitor.post('/admin/notices', { feed: JSON.stringify(phFreelancers, null, 2) });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe('/admin/notices?saved=1');
    expect(JSON.parse(await getFeedText(t))).toEqual(phFreelancers);
  });

  it('is for admins only, and needs the CSRF token', async () => {
    const { visitor } = await signUpByForm(t);
    expect((await visitor.get('/admin/notices')).statusCode).toBe(403);
    const before = await getFeedText(t);
    expect((await visitor.post('/admin/notices', { feed: JSON.stringify(feedWith([])) })).statusCode).toBe(403);
    expect((await visitor.post('/admin/notices', { _csrf: 'forged', feed: JSON.stringify(feedWith([])) })).statusCode).toBe(403);
    expect(await getFeedText(t)).toBe(before);
  });
});
