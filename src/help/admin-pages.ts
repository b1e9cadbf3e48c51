import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { member, requireStaff } from '../platform/web/auth.js';
import { field, handleForm, renderPage } from '../platform/web/pages.js';
import { validateForm } from '../platform/web/form.js';
import { requestMeta } from '../platform/web/request-meta.js';
import type { ArticleDraft } from './rules.js';
import { ArticleBody, SlugParams } from './schemas.js';

interface ArticleForm {
  slug: string;
  title: string;
  summary: string;
  body: string;
  keywords: string;
  related: string;
}

function formValues(body: unknown): ArticleForm {
  return {
    slug: field(body, 'slug').trim(),
    title: field(body, 'title'),
    summary: field(body, 'summary'),
    body: field(body, 'body'),
    keywords: field(body, 'keywords'),
    related: field(body, 'related'),
  };
}

/** Keywords one per line; related articles by address, separated by spaces, commas or lines. */
function draftOf(form: ArticleForm): ArticleDraft {
  return {
    title: form.title,
    summary: form.summary,
    body: form.body,
    keywords: form.keywords.split(/\r?\n/).map((k) => k.trim()).filter(Boolean),
    related: form.related.split(/[\s,]+/).filter(Boolean),
  };
}

/** /admin/articles: admins list, write and edit help articles (the same service as the API). */
export const helpAdminPages: FastifyPluginAsync = async (app) => {
  const { help } = app.verity;
  const adminOnly = { preHandler: requireStaff('admin') };
  const adminForm = { preValidation: app.csrfProtection, preHandler: requireStaff('admin') };

  app.get('/admin/articles', adminOnly, async (request, reply) => {
    const saved = (request.query as { saved?: unknown }).saved;
    const articles = await help.search('');
    return renderPage(request, reply, 'admin-articles', { title: 'Help articles', articles, saved: typeof saved === 'string' ? saved : undefined });
  });

  app.get('/admin/articles/new', adminOnly, async (request, reply) =>
    renderPage(request, reply, 'admin-article', { title: 'New help article', isNew: true, values: { slug: '', title: '', summary: '', body: '', keywords: '', related: '' } }),
  );

  app.get('/admin/articles/:slug', adminOnly, async (request, reply) => {
    const article = await help.get((request.params as { slug: string }).slug);
    const values = {
      slug: article.slug,
      title: article.title,
      summary: article.summary,
      body: article.body,
      keywords: article.keywords.join('\n'),
      related: article.related.map((r) => r.slug).join('\n'),
    };
    return renderPage(request, reply, 'admin-article', { title: `Edit: ${article.title}`, isNew: false, values });
  });

  async function save(request: FastifyRequest, reply: FastifyReply, form: ArticleForm, isNew: boolean) {
    const title = isNew ? 'New help article' : `Edit: ${form.title}`;
    return handleForm(request, reply, { template: 'admin-article', title, values: { ...form }, extra: { isNew } }, async () => {
      const by = { actorId: member(request).account.id, meta: requestMeta(request), mustBeNew: isNew };
      const { slug } = validateForm(request, SlugParams, { slug: form.slug });
      const { article } = await help.save(slug, validateForm(request, ArticleBody, draftOf(form)), by);
      return `/admin/articles?saved=${encodeURIComponent(article.slug)}`;
    });
  }

  app.post('/admin/articles', adminForm, async (request, reply) => save(request, reply, formValues(request.body), true));

  app.post('/admin/articles/:slug', adminForm, async (request, reply) => {
    const form = { ...formValues(request.body), slug: (request.params as { slug: string }).slug };
    return save(request, reply, form, false);
  });
};
