import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireStaff } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { ArticleBody, ArticleSchema, ArticleSummarySchema, SearchQuery, SlugParams, VoteBody, VotesSchema } from './schemas.js';
import { voter } from './visitor.js';

/** /v1/help: search and read articles, vote on them; admins write them. */
export const helpRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { help } = app.verity;

  app.get('/help/articles', {
    schema: {
      tags: ['help'],
      summary: 'Search the help center (best match first); without q, every article',
      querystring: SearchQuery,
      response: { 200: Type.Array(ArticleSummarySchema), ...problems(400) },
    },
  }, async (request) => help.search(request.query.q));

  app.get('/help/articles/:slug', {
    schema: {
      tags: ['help'],
      summary: 'One article, with its Markdown, sanitised HTML, votes and related articles',
      params: SlugParams,
      response: { 200: ArticleSchema, ...problems(404) },
    },
  }, async (request) => help.get(request.params.slug));

  app.post('/help/articles/:slug/votes', {
    schema: {
      tags: ['help'],
      summary: 'Was this article helpful? One vote per visitor (the account, else a signed cookie); a second vote replaces the first',
      params: SlugParams,
      body: VoteBody,
      response: { 200: Type.Object({ votes: VotesSchema }), ...problems(400, 404, 429) },
    },
  }, async (request, reply) => {
    const who = await voter(request, reply);
    const votes = await help.vote(request.params.slug, who, request.body.helpful, request.ip ?? who.id);
    return { votes };
  });

  app.put('/admin/help/articles/:slug', {
    preHandler: requireStaff('admin'),
    schema: {
      tags: ['admin', 'help'],
      summary: 'Create or replace a help article (Markdown body)',
      security: [{ session: [] }],
      params: SlugParams,
      body: ArticleBody,
      response: { 200: ArticleSchema, ...problems(400, 401, 403) },
    },
  }, async (request) => {
    const { article } = await help.save(request.params.slug, request.body, { actorId: member(request).account.id, meta: requestMeta(request) });
    return article;
  });
};
