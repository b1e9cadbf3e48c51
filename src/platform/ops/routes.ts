import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';

/** Liveness, readiness and Prometheus metrics. */
export const opsRoutes: FastifyPluginAsync = async (app) => {
  const { db, metrics, outbox } = app.verity;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    try {
      await sql`SELECT 1`.execute(db);
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err }, 'database not reachable');
      return reply.code(503).type('application/problem+json').send({
        type: '/problems/service_unavailable',
        title: 'Not ready',
        status: 503,
        detail: 'The database is not reachable.',
        code: 'service_unavailable',
      });
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    metrics.outboxBacklog.set(await outbox.backlog());
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
};
