import { domain } from '../web/domain.js';
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listDevMessages } from '../messaging/transports/dev-outbox.js';
import { formInput, validateForm } from '../web/form.js';
import { formErrors, renderPage } from '../web/pages.js';
import { toAppError } from '../web/problems.js';

const DevMessageSchema = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  to: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
  createdAt: Type.String(),
});

export const DevOutboxQuery = Type.Object({ to: Type.Optional(Type.String({ maxLength: 320 })) }, { additionalProperties: false });

/** Development only (not registered in production, so it answers 404 there). */
export const devOutboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/dev/outbox', {
    schema: {
      tags: ['development'],
      summary: 'Messages the development outbox captured, newest first',
      querystring: DevOutboxQuery,
      response: { 200: Type.Array(DevMessageSchema) },
    },
  }, async (request) => listDevMessages(app.verity.db, request.query.to));
};

export const devOutboxPages: FastifyPluginAsync = async (app) => {
  app.get('/dev/outbox', async (request, reply) => {
    const values = formInput(request.query, DevOutboxQuery);
    let to: string | undefined;
    try {
      to = validateForm(request, DevOutboxQuery, values).to;
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return renderPage(request, reply, 'dev-outbox', { title: 'Development outbox', messages: [], values, ...formErrors(appError) }, appError.status);
    }
    const messages = await listDevMessages(app.verity.db, to);
    return renderPage(request, reply, 'dev-outbox', { title: 'Development outbox', messages, values: { to: to ?? '' } });
  });
};

/** The development outbox (never in production): what would have been sent. */
export const devOutboxPlugin = domain({ api: [devOutboxRoutes], pages: [devOutboxPages] });
