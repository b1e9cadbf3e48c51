import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';
import { countTable, SEEDED } from './support.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function forms(html: string): string[] {
  return [...html.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((m) => m[0]);
}

describe('the help center pages', () => {
  it('/help has a GET search form and lists every article', async () => {
    const res = await new Visitor(t).get('/help');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/<form method="get" action="\/help"[^>]*>/);
    expect(res.body).toMatch(/<input id="f-q" name="q" type="search"/);
    for (const slug of SEEDED) expect(res.body).toContain(`href="/help/${slug}"`);
  });

  it('/help?q= shows the best match first, and says so when nothing matches', async () => {
    const res = await new Visitor(t).get('/help?q=cant+login');
    expect(res.body).toContain('value="cant login"');
    const first = /<ol class="help-results"[\s\S]*?href="\/help\/([a-z0-9-]+)"/.exec(res.body);
    expect(first?.[1]).toBe('forgot-password');
    const none = await new Visitor(t).get('/help?q=zzqxv');
    expect(none.body).toContain('No articles found for &quot;zzqxv&quot;');
    expect(none.body).toContain('href="/support/contact"');
  });

  it('/help/{slug} shows the article, related links and two one-button vote forms', async () => {
    const res = await new Visitor(t).get('/help/code-not-received');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<h1 id="article-title">I didn&#39;t get my verification code</h1>');
    expect(res.body).toContain('<a href="/account/phone">Your phone</a>');
    expect(res.body).toContain('href="/help/why-we-verify-phones"');
    expect(res.body).toContain('Was this article helpful?');
    expect(res.body).toContain('No one has rated this article yet.');
    const votes = forms(res.body).filter((f) => f.includes('action="/help/code-not-received/votes"'));
    expect(votes).toHaveLength(2);
    for (const [form, answer] of [[votes[0]!, 'yes'], [votes[1]!, 'no']] as const) {
      expect(form).toContain('method="post"');
      expect(form).toMatch(/name="_csrf" value="[^"]+"/);
      expect(form).toContain(`name="helpful" value="${answer}"`);
      expect(form.match(/<button/g)).toHaveLength(1);
    }
  });

  it('records a vote from the form, redirects back (303) and shows the new count', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/help/voip-numbers');
    const yes = await visitor.post('/help/voip-numbers/votes', { helpful: 'yes' });
    expect(yes.statusCode).toBe(303);
    expect(yes.headers.location).toBe('/help/voip-numbers?voted=1#feedback');
    let page = await visitor.get('/help/voip-numbers?voted=1');
    expect(page.body).toContain('1 out of 1 found this helpful');
    expect(page.body).toContain('Thank you for your feedback.');
    expect(page.body).toContain('You answered Yes.');

    const no = await visitor.post('/help/voip-numbers/votes', { helpful: 'no' });
    expect(no.statusCode).toBe(303);
    page = await visitor.get('/help/voip-numbers');
    expect(page.body).toContain('0 out of 1 found this helpful');
    expect(page.body).toContain('You answered No.');

    const other = new Visitor(t);
    await other.get('/help/voip-numbers');
    await other.post('/help/voip-numbers/votes', { helpful: 'yes' });
    expect((await other.get('/help/voip-numbers')).body).toContain('1 out of 2 found this helpful');
    expect((await other.get('/help?q=voip')).body).toContain('1 out of 2 found this helpful');
  });

  it('refuses a vote without the CSRF token, or without a clear answer, and stores nothing', async () => {
    const before = await countTable(t, 'help_votes');
    const visitor = new Visitor(t);
    await visitor.get('/help/lost-phone');
    expect((await visitor.post('/help/lost-phone/votes', { _csrf: 'forged', helpful: 'yes' })).statusCode).toBe(403);
    const unclear = await visitor.post('/help/lost-phone/votes', { helpful: 'maybe' });
    expect(unclear.statusCode).toBe(400);
    expect(unclear.body).toContain('Choose Yes or No.');
    expect(await countTable(t, 'help_votes')).toBe(before);
  });

  it('limits votes from one address on the page too, saying when to try again', async () => {
    const visitor = new Visitor(t);
    await visitor.get('/help/forgot-security-answer');
    for (let i = 0; i < 30; i++) {
      expect((await visitor.post('/help/forgot-security-answer/votes', { helpful: i % 2 ? 'yes' : 'no' })).statusCode).toBe(303);
    }
    const refused = await visitor.post('/help/forgot-security-answer/votes', { helpful: 'yes' });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toContain('Was this article helpful?');
    expect(refused.body).toMatch(/role="alert"/);
    // One visitor, one vote: the 30 accepted posts changed a single answer (the last was Yes).
    expect((await visitor.get('/help/forgot-security-answer')).body).toContain('1 out of 1 found this helpful');
  });

  it('answers an unknown article with a 404 page', async () => {
    const res = await new Visitor(t).get('/help/no-such-article');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  });
});

// Each seeded article sends the member to the page that does what it explains.
const pageLinks: Record<(typeof SEEDED)[number], string[]> = {
  'why-we-verify-phones': ['/account/phone'],
  'phone-number-in-use': ['/recover/password', '/support/contact', '/account/security', '/account/phone'],
  'code-not-received': ['/account/phone', '/support/contact'],
  'voip-numbers': ['/account/phone'],
  'lost-phone': ['/recover/security-reset', '/account/security', '/account/phone'],
  'forgot-password': ['/recover/password'],
  'forgot-security-answer': ['/account/security'],
  'two-step-verification-methods': ['/account/security'],
  'account-compromised': ['/support/compromised', '/recover/password'],
  'contact-support': ['/support/contact'],
  'one-account-per-person': ['/account', '/recover/password', '/account/security'],
  'no-access-to-email': ['/support/contact'],
  'confirm-its-you': ['/help/code-not-received'],
  'duplicate-account': ['/account/phone', '/recover/password', '/support/contact', '/login', '/account', '/account/security'],
};

describe('the seeded articles', () => {
  it.each(Object.entries(pageLinks))('%s links to the pages that do it', async (slug, paths) => {
    const article = (await t.app.inject({ method: 'GET', url: `/v1/help/articles/${slug}` })).json();
    expect(article.summary.length).toBeGreaterThan(40);
    expect(article.keywords.length).toBeGreaterThanOrEqual(5);
    expect(article.related.length).toBeGreaterThanOrEqual(2);
    for (const path of paths) expect(article.html).toContain(`href="${path}"`);
  });

  it('link only to help articles that exist', async () => {
    for (const slug of SEEDED) {
      const { html } = (await t.app.inject({ method: 'GET', url: `/v1/help/articles/${slug}` })).json();
      for (const [, target] of html.matchAll(/href="\/help\/([^"#?]+)"/g)) expect(SEEDED, `${slug} → ${target}`).toContain(target);
    }
  });
});
