import type { FastifyPluginAsync } from 'fastify';
import { domain } from './domain.js';
import { renderPage } from './pages.js';

export const homePages: FastifyPluginAsync = async (app) => {
  app.get('/', async (request, reply) => {
    const closed = (request.query as { closed?: unknown }).closed === '1';
    return renderPage(request, reply, 'home', { title: 'Home', flash: closed ? 'Your account is closed. Thank you for having been with us.' : undefined });
  });
};

export const homePlugin = domain({ pages: [homePages] });
