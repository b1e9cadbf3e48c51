import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance, so tests can build many apps in one process. */
export function createMetrics(options: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'verity_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    signIns: new Counter({
      name: 'verity_signin_total',
      help: 'Sign-in attempts by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'verity_outbox_backlog',
      help: 'Messages waiting in the outbox (queued or being sent)',
      registers: [registry],
    }),
    messagesSent: new Counter({
      name: 'verity_messages_total',
      help: 'Outbox deliveries by channel and result',
      labelNames: ['channel', 'result'] as const,
      registers: [registry],
    }),
    deliveryReports: new Counter({
      name: 'verity_delivery_reports_total',
      help: 'SMS/voice provider status callbacks by outcome: the delivery status recorded, or why none was (bad_signature, unknown_message, untracked)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    rateLimitFallback: new Gauge({
      name: 'verity_ratelimit_fallback',
      help: '1 while rate-limit counters go to the database because Redis is unreachable, else 0',
      registers: [registry],
    }),
    rateLimitFallbacks: new Counter({
      name: 'verity_ratelimit_fallback_total',
      help: 'Times rate limits fell back from Redis to the database',
      registers: [registry],
    }),
    handoffSeconds: new Histogram({
      name: 'verity_message_handoff_seconds',
      help: 'Time from a message being queued to its transport accepting it',
      labelNames: ['channel'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60],
      registers: [registry],
    }),
    memberCacheLookups: new Counter({
      name: 'verity_member_cache_lookups_total',
      help: 'Member cache lookups: hit, miss, or bypass (the change feed is down, so the database answers)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    changeFeedUp: new Gauge({
      name: 'verity_change_feed_up',
      help: '1 while this process hears committed changes (LISTEN/NOTIFY) and may serve members from memory, else 0',
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'verity_rate_limit_exceeded_total',
      help: 'Hits past a rate limit or cap, by policy (src/platform/ratelimit.ts): a refused request, a sign-in lock, a code not sent',
      labelNames: ['policy'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
