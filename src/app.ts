import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { createLogger, withLogSafety } from './platform/logger.js';
import { accountPages } from './accounts/pages.js';
import { accountRoutes } from './accounts/routes.js';
import { AccountService } from './accounts/service.js';
import { adminPages } from './admin/pages.js';
import { adminRoutes } from './admin/routes.js';
import { AdminService } from './admin/service.js';
import type { AppContext } from './context.js';
import type { Config } from './platform/config.js';
import type { Clock } from './platform/clock.js';
import type { Random } from './platform/crypto.js';
import type { Db } from './platform/db/database.js';
import { createMetrics, type Metrics } from './platform/metrics.js';
import { Outbox } from './platform/messaging/outbox.js';
import type { Transports } from './platform/messaging/transport.js';
import { opsRoutes } from './platform/ops/routes.js';
import { devOutboxPages, devOutboxRoutes } from './platform/ops/dev-outbox.js';
import { RateLimiter, type CounterStore } from './platform/ratelimit.js';
import type { Secrets } from './platform/secrets.js';
import { registerWebPlatform, newRequestId } from './platform/web/plugins.js';
import { sessionPages } from './sessions/pages.js';
import { sessionRoutes } from './sessions/routes.js';
import { SessionService } from './sessions/service.js';
import { homePages } from './platform/web/home.js';
import formbody from '@fastify/formbody';
import { AppError } from './platform/errors.js';
import { twilioWebhookRoutes } from './platform/twilio/webhook.js';
import { gateRoutes } from './gate/routes.js';
import { GateService } from './gate/service.js';
import type { LineTypeLookup } from './phone/lookup.js';
import { phoneAdminPages, phonePages } from './phone/pages.js';
import { phoneRoutes } from './phone/routes.js';
import { PhoneService } from './phone/service.js';
import { createTwilioLookup } from './platform/twilio/lookup.js';
import { createTwilioRecheck } from './platform/twilio/recheck.js';
import { helpAdminPages } from './help/admin-pages.js';
import { helpPages } from './help/pages.js';
import { helpRoutes } from './help/routes.js';
import { HelpService } from './help/service.js';
import { noticePages } from './notices/pages.js';
import { noticeRoutes } from './notices/routes.js';
import { NoticeService } from './notices/service.js';

export interface AppDeps {
  config: Config;
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  transports: Transports;
  counterStore: CounterStore;
  logger?: Logger;
  metrics?: Metrics;
  /** The carrier line-type lookup; by default Twilio's when PHONE_LOOKUP=twilio, else none. */
  phoneLookup?: LineTypeLookup;
}

export const BODY_LIMIT = 1024 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const log = deps.logger ? withLogSafety(deps.logger) : createLogger(deps.config.logLevel);
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    genReqId: newRequestId,
    trustProxy: deps.config.trustProxy ?? false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: true } },
    routerOptions: { ignoreTrailingSlash: true },
  } as FastifyServerOptions) as unknown as FastifyInstance;

  const metrics = deps.metrics ?? createMetrics();
  const limiter = new RateLimiter(deps.counterStore, deps.clock, deps.config.rateLimit);
  const outbox = new Outbox(deps.db, deps.clock, deps.transports, log.child({ component: 'outbox' }), metrics);
  const sessions = new SessionService({
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    limiter,
    metrics,
    policy: { absoluteSeconds: deps.config.sessionAbsoluteSeconds, idleSeconds: deps.config.sessionIdleSeconds },
  });
  const accounts = new AccountService({
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    secrets: deps.secrets,
    limiter,
    outbox,
    sessions,
    publicUrl: deps.config.publicUrl,
  });
  const admin = new AdminService({ db: deps.db, clock: deps.clock, random: deps.random, limiter });
  const phone = new PhoneService({
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    secrets: deps.secrets,
    limiter,
    outbox,
    metrics,
    log: log.child({ component: 'phone' }),
    publicUrl: deps.config.publicUrl,
    allowedCountries: deps.config.phoneAllowedCountries,
    countryDailyCaps: deps.config.phoneCountryDailyCaps,
    lookup: deps.phoneLookup ?? (deps.config.phoneLookup === 'twilio' ? createTwilioLookup(deps.config) : undefined),
    recheck: deps.config.smsTransport === 'twilio' ? createTwilioRecheck({ config: deps.config, db: deps.db, clock: deps.clock, log }) : undefined,
  });
  const gate = new GateService({ db: deps.db, clock: deps.clock, idleSeconds: deps.config.sessionIdleSeconds });
  const help = new HelpService({ db: deps.db, clock: deps.clock, limiter });
  const notices = new NoticeService({ db: deps.db, clock: deps.clock });
  const context: AppContext = {
    ...deps,
    log,
    metrics,
    limiter,
    outbox,
    sessions,
    accounts,
    admin,
    phone,
    gate,
    help,
    notices,
  };
  app.decorate('verity', context);
  app.decorateRequest('member', null);
  app.decorateRequest('serviceKey', null);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  await registerWebPlatform(app);
  await app.register(opsRoutes);

  // The JSON API: JSON bodies only, so a cross-site HTML form can never reach it.
  await app.register(
    async (api) => {
      // Fastify also parses text/plain by default, a type any cross-site form may send.
      api.removeContentTypeParser('text/plain');
      // A route without a body schema takes no body: fields sent to it are unknown fields.
      api.addHook('preValidation', async (request) => {
        const body: unknown = request.body;
        if (request.routeOptions.schema?.body || body === undefined || body === null) return;
        if (typeof body === 'object' && Object.keys(body).length === 0) return;
        throw new AppError('invalid_request', {
          detail: 'This request takes no body.',
          extra: { errors: [{ path: '/', message: 'must be empty' }] },
        });
      });
      await api.register(accountRoutes);
      await api.register(sessionRoutes);
      await api.register(adminRoutes);
      await api.register(phoneRoutes);
      await api.register(gateRoutes);
      await api.register(helpRoutes);
      await api.register(noticeRoutes, { notices });
      // Form-encoded and signed by Twilio; its form parser stays inside this plugin.
      await api.register(twilioWebhookRoutes);
      if (!deps.config.production) await api.register(devOutboxRoutes);
    },
    { prefix: '/v1' },
  );

  // The pages: HTML forms, CSRF-checked.
  await app.register(async (web) => {
    await web.register(formbody, { bodyLimit: BODY_LIMIT });
    await web.register(homePages);
    await web.register(accountPages);
    await web.register(sessionPages);
    await web.register(adminPages);
    await web.register(phonePages);
    await web.register(phoneAdminPages);
    await web.register(helpPages);
    await web.register(helpAdminPages);
    await web.register(noticePages, { notices });
    if (!deps.config.production) await web.register(devOutboxPages);
  });

  return app;
}
