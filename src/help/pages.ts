import type { FastifyPluginAsync } from 'fastify';
import { invalid } from '../platform/errors.js';
import { parseForm } from '../platform/web/form.js';
import { field, handleForm, renderPage } from '../platform/web/pages.js';
import { VoteBody } from './schemas.js';
import { knownVoter, voter } from './visitor.js';

/** /help: search, articles with "Was this article helpful?"; the same service as the API. */
export const helpPages: FastifyPluginAsync = async (app) => {
  const { help } = app.verity;
  const csrf = { preValidation: app.csrfProtection };

  app.get('/help', async (request, reply) => {
    const raw = (request.query as { q?: unknown }).q;
    const q = typeof raw === 'string' ? raw.trim().slice(0, 200) : '';
    const results = await help.search(q);
    return renderPage(request, reply, 'help', { title: q ? `Help: ${q}` : 'Help center', q, results });
  });

  app.get('/help/:slug', async (request, reply) => {
    const { slug } = request.params as { slug: string };
    const article = await help.get(slug);
    const myVote = await help.voteOf(article.slug, await knownVoter(request));
    const voted = (request.query as { voted?: unknown }).voted === '1';
    return renderPage(request, reply, 'help-article', { title: article.title, article, myVote, voted });
  });

  // Two small forms (Yes, No), each with one submit button and the answer in a hidden field.
  app.post('/help/:slug/votes', csrf, async (request, reply) => {
    const { slug } = request.params as { slug: string };
    const article = await help.get(slug);
    const answer = field(request.body, 'helpful');
    return handleForm(request, reply, { template: 'help-article', title: article.title, values: {}, extra: { article, myVote: null } }, async () => {
      // The form says yes or no; the API's body says true or false.
      if (answer !== 'yes' && answer !== 'no') throw invalid([{ path: '/helpful', message: 'Choose Yes or No.' }]);
      const { helpful } = parseForm(request, VoteBody, { helpful: answer === 'yes' });
      const who = await voter(request, reply);
      await help.vote(article.slug, who, helpful, request.ip ?? who.id);
      return `/help/${article.slug}?voted=1#feedback`;
    });
  });
};
