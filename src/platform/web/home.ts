import type { FastifyPluginAsync } from 'fastify';
import { renderPage } from './pages.js';

export const homePages: FastifyPluginAsync = async (app) => {
  app.get('/', async (request, reply) => renderPage(request, reply, 'home', { title: 'Home' }));
};
