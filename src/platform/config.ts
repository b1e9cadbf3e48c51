import { resolve } from 'node:path';

/**
 * Every setting Verity reads from the environment, validated once at start.
 * A bad value throws a ConfigError whose message is one line naming the variable.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly production: boolean;
  readonly emailTransport: 'outbox' | 'smtp';
  readonly smtpUrl: string | undefined;
  readonly emailFrom: string;
  readonly smsTransport: 'outbox' | 'twilio';
  readonly twilio: {
    readonly accountSid: string | undefined;
    readonly authToken: string | undefined;
    readonly from: string | undefined;
    readonly baseUrl: string;
  };
  readonly phoneLookup: 'none' | 'twilio';
  readonly rateLimit: boolean;
  /** Undefined in development until the server generates one into DATA_DIR. */
  readonly secretKey: string | undefined;
  readonly sessionAbsoluteSeconds: number;
  readonly sessionIdleSeconds: number;
  readonly countryHeader: string;
  readonly logLevel: string;
  /** Proxy addresses (comma-separated IPs or CIDRs) whose X-Forwarded-For is believed. */
  readonly trustProxy: string | undefined;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${value})`);
  return value;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => p + '//').join(' or ')}`);
  }
  return raw.replace(/\/+$/, '');
}

export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const publicUrl = url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const emailTransport = oneOf(env, 'EMAIL_TRANSPORT', ['outbox', 'smtp'] as const, 'outbox');
  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  const smsTransport = oneOf(env, 'SMS_TRANSPORT', ['outbox', 'twilio'] as const, 'outbox');
  const phoneLookup = oneOf(env, 'PHONE_LOOKUP', ['none', 'twilio'] as const, 'none');
  const rateLimitSetting = oneOf(env, 'RATE_LIMIT', ['on', 'off'] as const, 'on');
  const secretKey = env.SECRET_KEY || undefined;

  if (emailTransport === 'smtp' && !smtpUrl) throw new ConfigError('SMTP_URL', 'is required when EMAIL_TRANSPORT=smtp');
  const twilio = {
    accountSid: env.TWILIO_ACCOUNT_SID || undefined,
    authToken: env.TWILIO_AUTH_TOKEN || undefined,
    from: env.TWILIO_FROM || undefined,
    baseUrl: url(env, 'TWILIO_BASE_URL', ['http:', 'https:']) ?? 'https://api.twilio.com',
  };
  if (smsTransport === 'twilio' || phoneLookup === 'twilio') {
    for (const [name, value] of [
      ['TWILIO_ACCOUNT_SID', twilio.accountSid],
      ['TWILIO_AUTH_TOKEN', twilio.authToken],
    ] as const) {
      if (!value) throw new ConfigError(name, 'is required when SMS_TRANSPORT or PHONE_LOOKUP is twilio');
    }
  }
  if (smsTransport === 'twilio' && !twilio.from) {
    throw new ConfigError('TWILIO_FROM', 'is required when SMS_TRANSPORT=twilio');
  }
  if (secretKey !== undefined && secretKey.length < 32) {
    throw new ConfigError('SECRET_KEY', 'must be at least 32 characters');
  }
  if (production) {
    if (!secretKey) throw new ConfigError('SECRET_KEY', 'is required when NODE_ENV=production');
    if (emailTransport === 'outbox') throw new ConfigError('EMAIL_TRANSPORT', 'must be smtp when NODE_ENV=production');
    if (smsTransport === 'outbox') throw new ConfigError('SMS_TRANSPORT', 'must be twilio when NODE_ENV=production');
    if (rateLimitSetting === 'off') throw new ConfigError('RATE_LIMIT', 'cannot be off when NODE_ENV=production');
  }

  return Object.freeze({
    port,
    host,
    publicUrl,
    dataDir: resolve(env.DATA_DIR || './data'),
    databaseUrl,
    redisUrl,
    production,
    emailTransport,
    smtpUrl,
    emailFrom: env.EMAIL_FROM || 'Verity <no-reply@verity.local>',
    smsTransport,
    twilio: Object.freeze(twilio),
    phoneLookup,
    rateLimit: rateLimitSetting === 'on',
    secretKey,
    sessionAbsoluteSeconds: integer(env, 'SESSION_ABSOLUTE_SECONDS', 30 * 86400, 60, 365 * 86400),
    sessionIdleSeconds: integer(env, 'SESSION_IDLE_SECONDS', 7 * 86400, 60, 365 * 86400),
    countryHeader: (env.COUNTRY_HEADER || 'cf-ipcountry').toLowerCase(),
    trustProxy: env.TRUST_PROXY || undefined,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  });
}
