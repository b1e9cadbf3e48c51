import { Redis } from 'ioredis';
import { createLogger } from './platform/logger.js';
import { join } from 'node:path';
import { SETUP_TOKEN_FILE } from './admin/service.js';
import { buildApp } from './app.js';
import { systemClock } from './platform/clock.js';
import { ConfigError, loadConfig } from './platform/config.js';
import { secureRandom } from './platform/crypto.js';
import { openDatabase } from './platform/db/database.js';
import { migrateToLatest } from './platform/db/migrate.js';
import { createMetrics } from './platform/metrics.js';
import { createTransports } from './platform/messaging/transports/index.js';
import { DbCounterStore, RedisCounterStore, type CounterStore } from './platform/ratelimit.js';
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

  let redis: Redis | undefined;
  let counterStore: CounterStore = new DbCounterStore(database.db);
  if (config.redisUrl) {
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    counterStore = new RedisCounterStore(redis);
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
    clock: systemClock,
    random: secureRandom,
    secrets: deriveSecrets(loadSecretKey(config)),
    transports,
    counterStore,
    logger: log,
    metrics: createMetrics({ defaults: true }),
  });

  const setupToken = await app.verity.admin.prepareSetupToken(config.dataDir);
  if (setupToken) {
    // The path, never the token: logs are shipped and kept where the data folder is not.
    log.warn(`No administrator yet. Sign in, then POST /v1/admin/setup (or open /admin) with the token in ${join(config.dataDir, SETUP_TOKEN_FILE)} (valid for 24 hours; a new one is written at the first start after that).`);
  }

  app.verity.outbox.start();
  app.verity.jobs.start();
  const sweeper = setInterval(() => void app.verity.limiter.sweep().catch(() => undefined), 10 * 60 * 1000);
  sweeper.unref();

  await app.listen({ port: config.port, host: config.host });

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
