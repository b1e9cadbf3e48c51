import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import { constantTimeEqual, sha256 } from '../crypto.js';
import { AppError } from '../errors.js';

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
      return reply.code(503).header('Retry-After', '5').type('application/problem+json').send({
        type: '/problems/service_unavailable',
        title: 'Not ready',
        status: 503,
        detail: 'The database is not reachable.',
        code: 'service_unavailable',
      });
    }
  });

  // Metrics name routes, volumes and error rates: operators' business, not the public's.
  // With METRICS_TOKEN they need it as a bearer token; in production without one they are
  // not served at all.
  const { metricsToken, production } = app.verity.config;
  if (production && !metricsToken) return;
  const expected = metricsToken ? sha256(metricsToken) : undefined;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (expected) {
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!constantTimeEqual(sha256(given), expected)) {
        // A problem document for a scraper, not the pages' redirect to the sign-in form.
        const problem = new AppError('unauthenticated', { detail: 'GET /metrics needs the METRICS_TOKEN as a bearer token.' }).toProblem();
        return reply.code(401).header('www-authenticate', 'Bearer').type('application/problem+json').send(problem);
      }
    }
    metrics.outboxBacklog.set(await outbox.backlog());
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
};
