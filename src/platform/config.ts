import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { isCountryCode } from './countries.js';

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
  /** Put before every Redis key (REDIS_KEY_PREFIX), so services or test runs sharing one Redis keep apart. */
  readonly redisKeyPrefix: string;
  readonly production: boolean;
  readonly emailTransport: 'outbox' | 'smtp';
  readonly smtpUrl: string | undefined;
  readonly emailFrom: string;
  /** Support's inbound address; each ticket's replies go to its tagged form, local+tag@domain. */
  readonly supportReplyAddress: string;
  readonly smsTransport: 'outbox' | 'twilio';
  readonly twilio: {
    readonly accountSid: string | undefined;
    readonly authToken: string | undefined;
    readonly from: string | undefined;
    /** The REST API (Messages, Calls): https://api.twilio.com unless TWILIO_BASE_URL is set. */
    readonly baseUrl: string;
    /**
     * Lookup v2 lives on its own host: TWILIO_LOOKUP_BASE_URL, else TWILIO_BASE_URL (one
     * server for both, as in tests), else https://lookups.twilio.com.
     */
    readonly lookupBaseUrl: string;
  };
  readonly phoneLookup: 'none' | 'twilio';
  /** Countries whose numbers may be verified (PHONE_ALLOWED_COUNTRIES); null means all. */
  readonly phoneAllowedCountries: ReadonlySet<string> | null;
  /** Verification codes sent per country per day before sending stops (against SMS pumping). */
  readonly phoneCountryDailyCaps: Readonly<Record<string, number>>;
  readonly rateLimit: boolean;
  /** Undefined in development until the server generates one into DATA_DIR. */
  readonly secretKey: string | undefined;
  readonly sessionAbsoluteSeconds: number;
  readonly sessionIdleSeconds: number;
  readonly countryHeader: string;
  readonly logLevel: string;
  /**
   * Proxy addresses (comma-separated IPs or CIDRs) whose X-Forwarded-For is believed;
   * undefined when unset or `none` (the socket's address is the client's).
   */
  readonly trustProxy: string | undefined;
  /** Bearer token for GET /metrics; in production /metrics is not served without one. */
  readonly metricsToken: string | undefined;
  /** A request's headers and body must arrive within this (REQUEST_TIMEOUT_SECONDS). */
  readonly requestTimeoutSeconds: number;
  /** An idle kept-alive connection is closed after this (KEEP_ALIVE_TIMEOUT_SECONDS). */
  readonly keepAliveTimeoutSeconds: number;
  /** SIGTERM ends the process within this, whatever is still open (SHUTDOWN_TIMEOUT_SECONDS). */
  readonly shutdownTimeoutSeconds: number;
  /** Sent and abandoned outbox messages are deleted this many days after they were written. */
  readonly outboxRetentionDays: number;
  /**
   * A message being handed over is claimed for this long (OUTBOX_CLAIM_SECONDS); a process
   * that dies meanwhile leaves it to be claimed again after it. Longer than any hand-off.
   */
  readonly outboxClaimSeconds: number;
  /** Audit events are deleted this many days after they happened (src/platform/audit.ts purgeAudit). */
  readonly auditRetentionDays: number;
  /** An approved security reset takes effect this long after the approval (SECURITY_RESET_WAIT_HOURS). */
  readonly securityResetWaitHours: number;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    // The message is printed as ONE line: a value echoed back may hold a newline or
    // terminal control characters, so those are escaped, and a huge value is cut short.
    const line = `${variable}: ${problem}`.replace(/[\p{Cc}\u2028\u2029]/gu, (c) =>
      c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    super(line.length > 300 ? `${line.slice(0, 297)}...` : line);
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

/**
 * A plain address whose local part leaves room for a ticket's tag (+, 32 hex, a dot, 20
 * characters) within the 64 characters a local part may have.
 */
function replyAddress(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[a-z0-9._-]{1,10}@[a-z0-9.-]+\.[a-z]{2,63}$/i.test(raw)) {
    throw new ConfigError(name, `must be a plain address with a local part of at most 10 letters, digits, dots or dashes, like support@example.com (got "${raw}")`);
  }
  return raw.toLowerCase();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${value})`);
  return value;
}

/**
 * Codes a country's numbers may receive per day, whatever the accounts or IPs: a circuit
 * breaker against SMS pumping. '*' is every country not named. Override or extend with
 * PHONE_COUNTRY_DAILY_CAPS="PH=20000,*=3000".
 */
export const PHONE_COUNTRY_DAILY_CAP_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({ '*': 2000 });

function countryList(env: Env, name: string): ReadonlySet<string> | null {
  const raw = env[name]?.trim();
  if (!raw || raw.toLowerCase() === 'all') return null;
  const codes = raw.split(',').map((c) => c.trim().toUpperCase()).filter(Boolean);
  for (const code of codes) {
    if (!isCountryCode(code)) throw new ConfigError(name, `"${code}" is not an ISO 3166-1 alpha-2 country code`);
  }
  return Object.freeze(new Set(codes));
}

function countryCaps(env: Env, name: string, defaults: Readonly<Record<string, number>>): Readonly<Record<string, number>> {
  const caps: Record<string, number> = { ...defaults };
  for (const entry of (env[name] ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = /^([A-Za-z]{2}|\*)=(\d{1,9})$/.exec(entry);
    if (!match || (match[1] !== '*' && !isCountryCode(match[1]!.toUpperCase()))) {
      throw new ConfigError(name, `entries look like PH=20000 or *=2000 (got "${entry}")`);
    }
    caps[match[1]!.toUpperCase()] = Number(match[2]);
  }
  return Object.freeze(caps);
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

/** An HTTP header name (RFC 9110 token), lower-cased as Node presents request headers. */
function headerName(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(raw)) throw new ConfigError(name, `must be an HTTP header name such as CF-IPCountry (got "${raw.slice(0, 100)}")`);
  return raw.toLowerCase();
}

/** A Redis key prefix: printable ASCII without spaces, at most 100 characters; `verity:` by default. */
function redisKeyPrefix(env: Env, name: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return 'verity:';
  if (!/^[!-~]{1,100}$/.test(raw)) throw new ConfigError(name, `must be 1 to 100 printable characters without spaces, like verity: (got "${raw.slice(0, 100)}")`);
  return raw;
}

/** proxy-addr's names for address ranges, accepted as they are. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY: `none`, or a comma-separated list of IPs, CIDRs and proxy-addr range names.
 * Validated here: proxy-addr would otherwise throw at the first request, or quietly trust
 * something other than what was meant.
 */
function trustedProxies(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw || raw.toLowerCase() === 'none') return undefined;
  const entries = raw.split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    if (PROXY_RANGE_NAMES.has(entry)) continue;
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!family || extra !== undefined || !prefixOk) {
      throw new ConfigError(name, `entries are IP addresses or CIDR ranges such as 10.0.0.0/8, or loopback, linklocal, uniquelocal; or set none (got "${entry.slice(0, 100)}")`);
    }
  }
  return entries.join(',');
}

export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  // A name or an IPv4/IPv6 address; anything else would only fail later, at listen().
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host)) throw new ConfigError('HOST', `must be a host name or IP address (got "${host}")`);
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
  const twilioBaseUrl = url(env, 'TWILIO_BASE_URL', ['http:', 'https:']);
  const twilioLookupBaseUrl = url(env, 'TWILIO_LOOKUP_BASE_URL', ['http:', 'https:']);
  const twilio = {
    accountSid: env.TWILIO_ACCOUNT_SID || undefined,
    authToken: env.TWILIO_AUTH_TOKEN || undefined,
    from: env.TWILIO_FROM || undefined,
    baseUrl: twilioBaseUrl ?? 'https://api.twilio.com',
    lookupBaseUrl: twilioLookupBaseUrl ?? twilioBaseUrl ?? 'https://lookups.twilio.com',
  };
  if (smsTransport === 'twilio' || phoneLookup === 'twilio') {
    for (const [name, value] of [
      ['TWILIO_ACCOUNT_SID', twilio.accountSid],
      ['TWILIO_AUTH_TOKEN', twilio.authToken],
    ] as const) {
      if (!value) throw new ConfigError(name, 'is required when SMS_TRANSPORT or PHONE_LOOKUP is twilio');
    }
    // The SID is part of every request path: letters and digits only, and an account SID
    // (AC…), not an API key SID (SK…) or the auth token pasted into the wrong variable.
    if (!/^AC[A-Za-z0-9]+$/.test(twilio.accountSid!)) {
      throw new ConfigError('TWILIO_ACCOUNT_SID', 'must be an account SID starting with AC');
    }
  }
  if (smsTransport === 'twilio') {
    if (!twilio.from) throw new ConfigError('TWILIO_FROM', 'is required when SMS_TRANSPORT=twilio');
    // Voice calls need a real number, so TWILIO_FROM is an E.164 number, not a sender name.
    if (!/^\+[1-9]\d{6,14}$/.test(twilio.from)) {
      throw new ConfigError('TWILIO_FROM', `must be a phone number in E.164 form, like +15005550006 (got "${twilio.from}")`);
    }
  }
  if (secretKey !== undefined && secretKey.length < 32) {
    throw new ConfigError('SECRET_KEY', 'must be at least 32 characters');
  }
  if (production) {
    if (!secretKey) throw new ConfigError('SECRET_KEY', 'is required when NODE_ENV=production');
    if (emailTransport === 'outbox') throw new ConfigError('EMAIL_TRANSPORT', 'must be smtp when NODE_ENV=production');
    if (smsTransport === 'outbox') throw new ConfigError('SMS_TRANSPORT', 'must be twilio when NODE_ENV=production');
    if (rateLimitSetting === 'off') throw new ConfigError('RATE_LIMIT', 'cannot be off when NODE_ENV=production');
    // Links in e-mails carry one-time tokens, and Twilio signs its callbacks over this URL:
    // a localhost or plain-HTTP address would leak tokens or lose every delivery report.
    if (!publicUrl.startsWith('https:') || /^https:\/\/(localhost|127\.|\[::1\])/.test(publicUrl)) {
      throw new ConfigError('PUBLIC_URL', 'must be the public https:// address of the service when NODE_ENV=production');
    }
    // The auth token travels in every Twilio request: never over plain HTTP in production.
    if (twilioBaseUrl?.startsWith('http:')) throw new ConfigError('TWILIO_BASE_URL', 'must use https:// when NODE_ENV=production');
    if (twilioLookupBaseUrl?.startsWith('http:')) throw new ConfigError('TWILIO_LOOKUP_BASE_URL', 'must use https:// when NODE_ENV=production');
    // Behind a load balancer every client shares its address: unless the proxies are named,
    // each per-IP limit becomes one limit for everybody. Directly exposed, say none.
    if (!env.TRUST_PROXY?.trim()) {
      throw new ConfigError('TRUST_PROXY', 'is required when NODE_ENV=production: the proxy addresses or CIDRs in front of Verity, or none');
    }
  }
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');

  return Object.freeze({
    port,
    host,
    publicUrl,
    dataDir: resolve(env.DATA_DIR || './data'),
    databaseUrl,
    redisUrl,
    redisKeyPrefix: redisKeyPrefix(env, 'REDIS_KEY_PREFIX'),
    production,
    emailTransport,
    smtpUrl,
    emailFrom: env.EMAIL_FROM || 'Verity <no-reply@verity.local>',
    supportReplyAddress: replyAddress(env, 'SUPPORT_REPLY_ADDRESS', 'support@verity.local'),
    smsTransport,
    twilio: Object.freeze(twilio),
    phoneLookup,
    phoneAllowedCountries: countryList(env, 'PHONE_ALLOWED_COUNTRIES'),
    phoneCountryDailyCaps: countryCaps(env, 'PHONE_COUNTRY_DAILY_CAPS', PHONE_COUNTRY_DAILY_CAP_DEFAULTS),
    rateLimit: rateLimitSetting === 'on',
    secretKey,
    sessionAbsoluteSeconds: integer(env, 'SESSION_ABSOLUTE_SECONDS', 30 * 86400, 60, 365 * 86400),
    sessionIdleSeconds: integer(env, 'SESSION_IDLE_SECONDS', 7 * 86400, 60, 365 * 86400),
    countryHeader: headerName(env, 'COUNTRY_HEADER', 'cf-ipcountry'),
    trustProxy: trustedProxies(env, 'TRUST_PROXY'),
    metricsToken,
    requestTimeoutSeconds: integer(env, 'REQUEST_TIMEOUT_SECONDS', 30, 1, 3600),
    keepAliveTimeoutSeconds: integer(env, 'KEEP_ALIVE_TIMEOUT_SECONDS', 72, 1, 3600),
    shutdownTimeoutSeconds: integer(env, 'SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 600),
    outboxRetentionDays: integer(env, 'OUTBOX_RETENTION_DAYS', 30, 1, 3650),
    outboxClaimSeconds: integer(env, 'OUTBOX_CLAIM_SECONDS', 60, 5, 3600),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 400, 30, 36500),
    securityResetWaitHours: integer(env, 'SECURITY_RESET_WAIT_HOURS', 72, 1, 30 * 24),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  });
}
