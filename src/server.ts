import { Redis } from 'ioredis';
import { createLogger } from './platform/logger.js';
import { setupTokenPath } from './admin/service.js';
import { buildApp } from './app.js';
import { purgeAudit } from './platform/audit.js';
import { systemClock } from './platform/clock.js';
import { ConfigError, loadConfig } from './platform/config.js';
import { secureRandom } from './platform/crypto.js';
import { logWhatToOpen, siteUrl } from './platform/start-log.js';
import { openDatabase } from './platform/db/database.js';
import { migrateToLatest } from './platform/db/migrate.js';
import { createMetrics } from './platform/metrics.js';
import { createTransports } from './platform/messaging/transports/index.js';
import { DbCounterStore, FallbackCounterStore, RedisCounterStore, type CounterStore } from './platform/ratelimit.js';
import { deriveSecrets, loadSecretKey } from './platform/secrets.js';
import { closeHttp, installShutdown } from './platform/shutdown.js';

/** Starts Verity: configuration, database, migrations, the outbox worker, then listening. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`verity: configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  if (!config.rateLimit) log.warn('RATE_LIMIT=off: rate limits are disabled. Use this for load tests only.');

  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const applied = await migrateToLatest(database.db);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const metrics = createMetrics({ defaults: true });
  let redis: Redis | undefined;
  let counterStore: CounterStore = new DbCounterStore(database.db);
  if (config.redisUrl) {
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    // Redis down must not stop rate limiting (nor fail requests): the database counts meanwhile.
    counterStore = new FallbackCounterStore(redis, new RedisCounterStore(redis, `${config.redisKeyPrefix}rl:`), counterStore, {
      onFallback: (err) => {
        metrics.rateLimitFallback.set(1);
        metrics.rateLimitFallbacks.inc();
        log.warn({ err }, 'redis unreachable: rate limits fall back to the database');
      },
      onRecover: () => {
        metrics.rateLimitFallback.set(0);
        log.info('redis reachable again: rate limits back on redis');
      },
    });
  }

  let transports;
  try {
    transports = createTransports(config, database.db, systemClock);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`verity: configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await buildApp({
    config,
    db: database.db,
    changes: database.changes,
    clock: systemClock,
    random: secureRandom,
    secrets: deriveSecrets(loadSecretKey(config)),
    transports,
    counterStore,
    logger: log,
    metrics,
  });

  const setupToken = await app.verity.admin.prepareSetupToken(config.dataDir);

  app.verity.outbox.start();
  app.verity.jobs.start();
  // Housekeeping every 10 minutes: expired rate-limit counters, outbox and audit rows past retention.
  const sweeper = setInterval(() => {
    void app.verity.limiter.sweep().catch(() => undefined);
    void app.verity.outbox.purgeFinished(config.outboxRetentionDays).catch((err: unknown) => log.warn({ err }, 'outbox retention sweep failed'));
    void purgeAudit(database.db, systemClock, config.auditRetentionDays).catch((err: unknown) => log.warn({ err }, 'audit retention sweep failed'));
  }, 10 * 60 * 1000);
  sweeper.unref();

  await app.listen({ port: config.port, host: config.host });
  logWhatToOpen(log, {
    siteUrl: siteUrl(config, app.server.address()),
    devOutbox: !config.production,
    setupTokenFile: setupToken ? setupTokenPath(config.dataDir) : null,
  });

  installShutdown({
    log,
    timeoutMs: config.shutdownTimeoutSeconds * 1000,
    steps: [
      ['sweeper', () => clearInterval(sweeper)],
      ['http', () => closeHttp(app)],
      ['jobs', () => app.verity.jobs.stop()],
      ['outbox', () => app.verity.outbox.stop()],
      ['transports', () => Promise.all(Object.values(transports).map((t) => t.close?.()))],
      ['redis', () => redis?.quit()],
      ['database', () => database.close()],
    ],
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`verity: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
