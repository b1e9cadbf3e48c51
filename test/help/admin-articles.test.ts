import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, problem, signUp, type TestApp } from '../helpers/app.js';
import { signUpByForm } from '../pages/form.js';
import { countTable, grantAdmin, signUpAdmin, type SignedUpAdmin } from './support.js';

let t: TestApp;
let admin: SignedUpAdmin;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signUpAdmin(t);
});
afterAll(async () => {
  await t.close();
});

const article = {
  title: 'Changing your e-mail address',
  summary: 'How to change the e-mail address on your account.',
  body: 'Go to [Your account](/account) and change it.\n\n## Why we ask again\nWe confirm it is you first.',
  keywords: ['change email', 'new e-mail address', 'change email'],
  related: ['forgot-password', 'contact-support'],
};

function put(slug: string, payload: unknown, token = admin.token) {
  return t.app.inject({ method: 'PUT', url: `/v1/admin/help/articles/${slug}`, headers: auth(token), payload: payload as Record<string, unknown> });
}

describe('admins write help articles', () => {
  it('creates an article that is then found, read and rendered', async () => {
    const res = await put('change-email', article);
    expect(res.statusCode).toBe(200);
    const saved = res.json();
    expect(saved).toMatchObject({ slug: 'change-email', title: article.title, keywords: ['change email', 'new e-mail address'], votes: { helpful: 0, total: 0 } });
    expect(saved.related).toEqual([
      { slug: 'forgot-password', title: "I forgot my password or can't sign in" },
      { slug: 'contact-support', title: 'How to contact support' },
    ]);
    expect(saved.html).toContain('<h2>Why we ask again</h2>');
    expect(saved.updatedAt).toBe(t.clock.now().toISOString());
    const found = (await t.app.inject({ method: 'GET', url: '/v1/help/articles?q=changing%20my%20emial' })).json();
    expect(found[0].slug).toBe('change-email');
    const audit = await t.db.selectFrom('audit_events').selectAll().where('event', '=', 'help.article_created').execute();
    expect(audit.map((a) => [a.actor_id, a.details])).toEqual([[admin.id, { slug: 'change-email' }]]);
  });

  it('replaces an existing article, keeping its votes, and stamps the new time', async () => {
    await put('replace-me', article);
    await t.app.inject({ method: 'POST', url: '/v1/help/articles/replace-me/votes', payload: { helpful: true } });
    t.clock.advanceSeconds(3600);
    const res = await put('replace-me', { ...article, title: 'A better title', keywords: [], related: [] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ title: 'A better title', keywords: [], related: [], votes: { helpful: 1, total: 1 }, updatedAt: t.clock.now().toISOString() });
    const rows = await t.db.selectFrom('help_articles').select('slug').where('slug', '=', 'replace-me').execute();
    expect(rows).toHaveLength(1);
    expect(await t.db.selectFrom('audit_events').select('id').where('event', '=', 'help.article_updated').execute()).toHaveLength(1);
  });

  it('updates search at once: the new title is found, the old one no longer', async () => {
    await put('renamed', { ...article, title: 'Zebra crossings explained', keywords: [] });
    expect((await t.app.inject({ method: 'GET', url: '/v1/help/articles?q=zebra' })).json()[0]?.slug).toBe('renamed');
    await put('renamed', { ...article, title: 'Giraffe necks explained', keywords: [] });
    expect((await t.app.inject({ method: 'GET', url: '/v1/help/articles?q=zebra' })).json()).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/v1/help/articles?q=giraffe' })).json()[0]?.slug).toBe('renamed');
  });

  it.each([
    ['Bad_Slug', article, '/slug'],
    ['x'.repeat(81), article, '/slug'],
    ['ok-slug', { ...article, title: '   ' }, '/title'],
    ['ok-slug', { ...article, title: 'x'.repeat(121) }, '/title'],
    ['ok-slug', { ...article, summary: '' }, '/summary'],
    ['ok-slug', { ...article, body: '' }, '/body'],
    ['ok-slug', { ...article, keywords: ['fine', ' '] }, '/keywords/1'],
    ['ok-slug', { ...article, related: ['no-such-article'] }, '/related/0'],
    ['ok-slug', { ...article, related: ['ok-slug'] }, '/related/0'],
    ['ok-slug', { ...article, related: ['Not A Slug'] }, '/related/0'],
    ['ok-slug', { ...article, extra: 1 }, '/extra'],
    ['ok-slug', { ...article, title: 42 }, '/title'],
  ])('refuses %s with 400 naming %j, and changes nothing', async (slug, payload, path) => {
    const before = await countTable(t, 'help_articles');
    const res = await put(slug, payload);
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('invalid_request');
    expect(problem(res).errors?.map((e) => e.path)).toContain(path);
    expect(await countTable(t, 'help_articles')).toBe(before);
  });

  it('lists every problem at once', async () => {
    const res = await put('ok-slug', { title: '', summary: '', body: '', related: ['nope'] });
    expect(problem(res).errors?.map((e) => e.path)).toEqual(['/title', '/summary', '/body', '/related/0']);
  });

  it('is for admins only', async () => {
    const member = await signUp(t);
    const before = await countTable(t, 'help_articles');
    expect((await put('by-member', article, member.token)).statusCode).toBe(403);
    const anonymous = await t.app.inject({ method: 'PUT', url: '/v1/admin/help/articles/by-anon', payload: article });
    expect(anonymous.statusCode).toBe(401);
    expect(await countTable(t, 'help_articles')).toBe(before);
  });
});

describe('the /admin/articles pages', () => {
  it('let an admin create and edit an article through forms', async () => {
    const { visitor, user } = await signUpByForm(t);
    const me = await t.db.selectFrom('accounts').select('id').where('username', '=', user.username).executeTakeFirstOrThrow();
    await grantAdmin(t, me.id);

    const index = await visitor.get('/admin');
    expect(index.body).toContain('href="/admin/articles"');
    const list = await visitor.get('/admin/articles');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('href="/admin/articles/lost-phone"');

    await visitor.get('/admin/articles/new');
    const bad = await visitor.post('/admin/articles', { slug: 'lost-phone', title: 'Dup', summary: 's', body: 'b', keywords: '', related: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('An article already has this address');
    expect(bad.body).toContain('value="Dup"'); // the input is kept

    const created = await visitor.post('/admin/articles', {
      slug: 'paying-fees',
      title: 'Paying fees',
      summary: 'What the fees are.',
      body: '# Fees\n\nSee [support](/support/contact).',
      keywords: 'fees\nhow much does it cost',
      related: 'contact-support, forgot-password',
    });
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe('/admin/articles?saved=paying-fees');
    const read = (await t.app.inject({ method: 'GET', url: '/v1/help/articles/paying-fees' })).json();
    expect(read).toMatchObject({ title: 'Paying fees', keywords: ['fees', 'how much does it cost'] });
    expect(read.related.map((r: { slug: string }) => r.slug)).toEqual(['contact-support', 'forgot-password']);

    const edit = await visitor.get('/admin/articles/paying-fees');
    expect(edit.body).toContain('how much does it cost');
    const edited = await visitor.post('/admin/articles/paying-fees', { title: 'Paying fees and taxes', summary: 'What the fees are.', body: 'Text', keywords: '', related: '' });
    expect(edited.statusCode).toBe(303);
    expect((await t.app.inject({ method: 'GET', url: '/v1/help/articles/paying-fees' })).json().title).toBe('Paying fees and taxes');
  });

  it('refuse members who are not admins, and forms without the CSRF token', async () => {
    const { visitor } = await signUpByForm(t);
    expect((await visitor.get('/admin/articles')).statusCode).toBe(403);
    const before = await countTable(t, 'help_articles');
    const res = await visitor.post('/admin/articles', { _csrf: 'forged', slug: 'sneaky', title: 't', summary: 's', body: 'b' });
    expect(res.statusCode).toBe(403);
    expect(await countTable(t, 'help_articles')).toBe(before);
  });
});
