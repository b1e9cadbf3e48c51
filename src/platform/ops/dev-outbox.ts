import { domain } from '../web/domain.js';
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listDevMessages } from '../messaging/transports/dev-outbox.js';
import { renderPage } from '../web/pages.js';

const DevMessageSchema = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  to: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
  createdAt: Type.String(),
});

/** Development only (not registered in production, so it answers 404 there). */
export const devOutboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/dev/outbox', {
    schema: {
      tags: ['development'],
      summary: 'Messages the development outbox captured, newest first',
      querystring: Type.Object({ to: Type.Optional(Type.String({ maxLength: 320 })) }, { additionalProperties: false }),
      response: { 200: Type.Array(DevMessageSchema) },
    },
  }, async (request) => listDevMessages(app.verity.db, request.query.to));
};

export const devOutboxPages: FastifyPluginAsync = async (app) => {
  app.get('/dev/outbox', async (request, reply) => {
    const query = request.query as { to?: unknown };
    const to = typeof query.to === 'string' ? query.to.slice(0, 320) : undefined;
    const messages = await listDevMessages(app.verity.db, to);
    return renderPage(request, reply, 'dev-outbox', { title: 'Development outbox', messages, values: { to: to ?? '' } });
  });
};

/** The development outbox (never in production): what would have been sent. */
export const devOutboxPlugin = domain({ api: [devOutboxRoutes], pages: [devOutboxPages] });
