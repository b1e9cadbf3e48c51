import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { createLogger, withLogSafety } from './platform/logger.js';
import { AccountService } from './accounts/service.js';
import { AdminService } from './admin/service.js';
import type { AppContext } from './context.js';
import { accountsPlugin } from './accounts/plugin.js';
import { adminPlugin } from './admin/plugin.js';
import { gatePlugin } from './gate/plugin.js';
import { helpPlugin } from './help/plugin.js';
import { noticesPlugin } from './notices/plugin.js';
import { phonePlugin } from './phone/plugin.js';
import { sessionsPlugin } from './sessions/plugin.js';
import { challengesPlugin, createChallenges } from './challenges/plugin.js';
import { passwordMethod } from './challenges/password.js';
import { StepUp } from './challenges/step-up.js';
import { recoveryPlugin } from './recovery/plugin.js';
import { RecoveryService } from './recovery/service.js';
import { recoveryTwoStep } from './recovery/two-step.js';
import { SupportService } from './support/service.js';
import { TicketService } from './support/tickets.js';
import { TicketDesk } from './support/ticket-desk.js';
import { ticketsPlugin } from './support/tickets-plugin.js';
import { forgotAnswerPlugin } from './forgot-answer/plugin.js';
import { ForgotAnswerService } from './forgot-answer/service.js';
import { SecurityQuestionMethod } from './twostep/methods/security-question.js';
import { securityResetPlugin } from './security-reset/plugin.js';
import { SecurityResetService } from './security-reset/service.js';
import type { SecurityResetDeps } from './security-reset/deps.js';
import { agentPlugin } from './agent/plugin.js';
import { AgentService } from './agent/service.js';
import { Jobs } from './platform/jobs.js';
import { devOutboxPlugin } from './platform/ops/dev-outbox.js';
import { homePlugin } from './platform/web/home.js';
import { BODY_LIMIT } from './platform/web/domain.js';
import type { Config } from './platform/config.js';
import type { Clock } from './platform/clock.js';
import type { Random } from './platform/crypto.js';
import type { Db } from './platform/db/database.js';
import type { ChangeFeed } from './platform/db/change-feed.js';
import { MemberCache } from './platform/member-cache.js';
import { createMetrics, type Metrics } from './platform/metrics.js';
import { Outbox } from './platform/messaging/outbox.js';
import type { Transports } from './platform/messaging/transport.js';
import { opsRoutes } from './platform/ops/routes.js';
import { RateLimiter, type CounterStore } from './platform/ratelimit.js';
import type { Secrets } from './platform/secrets.js';
import { registerWebPlatform, newRequestId } from './platform/web/plugins.js';
import { httpTimeouts } from './platform/web/http-timeouts.js';
import { apiErrorHandler } from './platform/web/problems.js';
import { refuseHostileStrings } from './platform/web/strings.js';
import { SessionService } from './sessions/service.js';
import { GateService } from './gate/service.js';
import type { LineTypeLookup } from './phone/lookup.js';
import { PhoneService } from './phone/service.js';
import { createTwilioLookup } from './platform/twilio/lookup.js';
import { createTwilioRecheck } from './platform/twilio/recheck.js';
import { HelpService } from './help/service.js';
import { NoticeService } from './notices/service.js';
import { twoStepPlugin } from './twostep/plugin.js';
import { twoStepChallengeMethods } from './twostep/challenge-methods.js';
import { TwoStepService } from './twostep/service.js';

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
  /** The database's change feed: with it, signed-in members are served from memory (member-cache.ts); without, every request asks the database. */
  changes?: ChangeFeed;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const log = deps.logger ? withLogSafety(deps.logger) : createLogger(deps.config.logLevel);
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    genReqId: newRequestId,
    trustProxy: deps.config.trustProxy ?? false,
    // verbose: an error carries the failing value, so an empty field reads "required".
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: true, verbose: true } },
    routerOptions: { ignoreTrailingSlash: true },
    ...httpTimeouts(deps.config),
    // The router's refusals (broken %-escape, over-long parameter) as problem documents.
    frameworkErrors: apiErrorHandler,
  } as FastifyServerOptions) as unknown as FastifyInstance;

  const metrics = deps.metrics ?? createMetrics();
  const limiter = new RateLimiter(deps.counterStore, deps.clock, deps.config.rateLimit);
  limiter.onExceeded = (policy) => metrics.rateLimited.inc({ policy });
  const cache = new MemberCache(deps.changes, {
    onLookup: (result) => metrics.memberCacheLookups.inc({ result }),
    onState: (up) => {
      metrics.changeFeedUp.set(up ? 1 : 0);
      if (up) log.info('change feed listening: members are served from memory');
      else log.warn('change feed lost: member cache emptied, every request asks the database until it is back');
    },
  });
  await cache.start();
  const outbox = new Outbox(deps.db, deps.clock, deps.transports, log.child({ component: 'outbox' }), metrics, deps.secrets.outboxKey, deps.config.outboxClaimSeconds);
  const sessions = new SessionService({
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    limiter,
    metrics,
    outbox,
    publicUrl: deps.config.publicUrl,
    tokenKey: deps.secrets.tokenKey,
    policy: { absoluteSeconds: deps.config.sessionAbsoluteSeconds, idleSeconds: deps.config.sessionIdleSeconds },
    cache,
    loginChallenge: (input, meta) => challenges.open({ purpose: 'login', ...input }, meta),
    twoStepEnabled: (accountId) => twoStepEnabled(accountId),
  });
  const twoStep = new TwoStepService({ db: deps.db, clock: deps.clock, random: deps.random, secrets: deps.secrets, outbox, publicUrl: deps.config.publicUrl });
  const challenges = createChallenges({
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    secrets: deps.secrets,
    limiter,
    outbox,
    publicUrl: deps.config.publicUrl,
    sessions,
    afterSecondStepSignIn: (trx, accountId, meta) => securityResets.cancelBySignIn(trx, accountId, meta),
    methods: [
      ...twoStepChallengeMethods(twoStep, { consumeSendCaps: (target) => phone.consumeSendCaps(target) }),
      passwordMethod((account, password, meta) => sessions.confirmPassword(account, password, meta)),
    ],
  });
  const admin = new AdminService({ db: deps.db, clock: deps.clock, random: deps.random, limiter, tokenKey: deps.secrets.tokenKey, cache });
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
    removalGuard: (accountId) => twoStep.phoneRemovalGuard(accountId),
    openCase: (trx, input) => support.open(trx, input),
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
    viewParts: [phone.viewPart, twoStep.viewPart],
    cache,
  });
  // Facts that every sign-in and gate check asks, kept in memory until the account changes.
  const twoStepEnabled = (accountId: string) => cache.remember(accountId, 'two_step_enabled', () => twoStep.isEnabled(accountId));
  const phoneVerified = (accountId: string) => cache.remember(accountId, 'phone_verified', () => phone.hasVerifiedPhone(accountId));
  const stepUp = new StepUp({ clock: deps.clock, challenges, twoStep, accounts });
  const gate = new GateService({
    clock: deps.clock,
    accounts: { get: (accountId) => accounts.getCached(accountId) },
    phone: { hasVerifiedPhone: phoneVerified },
    sessions,
    twoStep: { isEnabled: twoStepEnabled },
  });
  const jobs = new Jobs(deps.db, deps.clock, log.child({ component: 'jobs' }));
  const support = new SupportService({ db: deps.db, clock: deps.clock });
  const recovery = new RecoveryService({
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    secrets: deps.secrets,
    limiter,
    outbox,
    jobs,
    accounts,
    support,
    twoStep: recoveryTwoStep({ twoStep, challenges, accounts }),
    phones: phone,
    publicUrl: deps.config.publicUrl,
  });
  const forgotAnswer = new ForgotAnswerService({
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    secrets: deps.secrets,
    limiter,
    outbox,
    publicUrl: deps.config.publicUrl,
    challenges,
    accounts,
    questions: { question: (db, accountId) => SecurityQuestionMethod.question(db, accountId), set: (...args) => twoStep.securityQuestion.set(...args) },
  });
  const tickets = new TicketService({
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    secrets: deps.secrets,
    limiter,
    outbox,
    jobs,
    accounts,
    support,
    publicUrl: deps.config.publicUrl,
    replyAddress: deps.config.supportReplyAddress,
  });
  const securityResetDeps: SecurityResetDeps = {
    db: deps.db,
    clock: deps.clock,
    random: deps.random,
    secrets: deps.secrets,
    limiter,
    outbox,
    jobs,
    accounts,
    sessions,
    twoStep,
    phone,
    support,
    recovery,
    publicUrl: deps.config.publicUrl,
    waitHours: deps.config.securityResetWaitHours,
  };
  const securityResets = new SecurityResetService(securityResetDeps);
  const agent = new AgentService({ db: deps.db, clock: deps.clock, outbox, publicUrl: deps.config.publicUrl, accounts, sessions, twoStep, phone, admin, support });
  const help = new HelpService({ db: deps.db, clock: deps.clock, limiter });
  const notices = new NoticeService({ db: deps.db, clock: deps.clock });
  const context: AppContext = {
    ...deps,
    log,
    metrics,
    limiter,
    outbox,
    sessions,
    challenges,
    accounts,
    admin,
    phone,
    twoStep,
    gate,
    help,
    notices,
    jobs,
    support,
    tickets,
    recovery,
    forgotAnswer,
    securityResets,
    stepUp,
  };
  app.decorate('verity', context);
  app.addHook('onClose', () => cache.stop());
  app.decorateRequest('member', null);
  app.decorateRequest('serviceKey', null);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  // NUL bytes and lone surrogates are refused in every body, query and parameter, API and pages.
  app.addHook('preValidation', refuseHostileStrings);
  await registerWebPlatform(app);
  await app.register(opsRoutes);
  await app.register(homePlugin);
  await app.register(accountsPlugin);
  await app.register(sessionsPlugin);
  await app.register(challengesPlugin, { challenges, stepUp });
  await app.register(adminPlugin);
  await app.register(phonePlugin);
  await app.register(twoStepPlugin);
  await app.register(gatePlugin, { gate });
  await app.register(recoveryPlugin, { recovery });
  await app.register(forgotAnswerPlugin, { forgotAnswer });
  await app.register(ticketsPlugin, { tickets, desk: new TicketDesk(tickets) });
  await app.register(securityResetPlugin, { securityResets, deps: securityResetDeps });
  await app.register(agentPlugin, { agent });
  await app.register(helpPlugin);
  await app.register(noticesPlugin, { notices });
  if (!deps.config.production) await app.register(devOutboxPlugin);

  return app;
}
