import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { projectRoot } from '../../src/platform/paths.js';

const SECRET = 'a-production-secret-key-of-enough-length-0123';
/** A complete, valid production environment; each case below breaks one thing. */
const PRODUCTION = {
  NODE_ENV: 'production',
  SECRET_KEY: SECRET,
  EMAIL_TRANSPORT: 'smtp',
  SMTP_URL: 'smtp://mail.example.com:587',
  SMS_TRANSPORT: 'twilio',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'auth-token',
  TWILIO_FROM: '+15005550006',
  PUBLIC_URL: 'https://verity.example.com',
  TRUST_PROXY: '10.0.0.0/8',
};

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:3000',
      databaseUrl: undefined,
      redisUrl: undefined,
      production: false,
      emailTransport: 'outbox',
      smsTransport: 'outbox',
      phoneLookup: 'none',
      rateLimit: true,
      sessionAbsoluteSeconds: 30 * 86400,
      sessionIdleSeconds: 7 * 86400,
    });
    expect(config.dataDir).toBe(join(process.cwd(), 'data'));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATA_DIR: '/tmp/verity-data',
      DATABASE_URL: 'postgres://u:p@db:5432/verity',
      REDIS_URL: 'redis://cache:6379',
      RATE_LIMIT: 'off',
      PHONE_LOOKUP: 'twilio',
      TWILIO_ACCOUNT_SID: PRODUCTION.TWILIO_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: 'tok',
      TWILIO_BASE_URL: 'http://127.0.0.1:9999',
      SESSION_ABSOLUTE_SECONDS: '7200',
      SESSION_IDLE_SECONDS: '600',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      publicUrl: 'http://localhost:8080',
      dataDir: '/tmp/verity-data',
      databaseUrl: 'postgres://u:p@db:5432/verity',
      redisUrl: 'redis://cache:6379',
      rateLimit: false,
      phoneLookup: 'twilio',
      sessionAbsoluteSeconds: 7200,
      sessionIdleSeconds: 600,
    });
    expect(config.twilio.baseUrl).toBe('http://127.0.0.1:9999');
  });

  it('reads REDIS_KEY_PREFIX (verity: unless set), refusing spaces and control characters', () => {
    expect(loadConfig({}).redisKeyPrefix).toBe('verity:');
    expect(loadConfig({ REDIS_KEY_PREFIX: 'market-a:verity:' }).redisKeyPrefix).toBe('market-a:verity:');
    expect(() => loadConfig({ REDIS_KEY_PREFIX: 'has space:' })).toThrow(/^REDIS_KEY_PREFIX: /);
    expect(() => loadConfig({ REDIS_KEY_PREFIX: 'x'.repeat(101) })).toThrow(/^REDIS_KEY_PREFIX: /);
  });

  it('accepts a complete production environment', () => {
    const config = loadConfig(PRODUCTION);
    expect(config).toMatchObject({ production: true, emailTransport: 'smtp', smsTransport: 'twilio', rateLimit: true, secretKey: SECRET });
  });

  it('reads TRUST_PROXY as a checked list, and none as no proxy at all', () => {
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: 'none' }).trustProxy).toBeUndefined();
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: ' 10.0.0.0/8, 192.168.1.7 ,fd00::/8,loopback' }).trustProxy).toBe('10.0.0.0/8,192.168.1.7,fd00::/8,loopback');
    expect(loadConfig({}).trustProxy).toBeUndefined();
  });

  it.each<[string, Record<string, string>, string]>([
    ['PORT=abc', { PORT: 'abc' }, 'PORT'],
    ['PORT out of range', { PORT: '70000' }, 'PORT'],
    ['PORT negative', { PORT: '-1' }, 'PORT'],
    ['PORT with a fraction', { PORT: '80.5' }, 'PORT'],
    ['HOST with a space', { HOST: 'my host' }, 'HOST'],
    ['PUBLIC_URL not a URL', { PUBLIC_URL: 'localhost:3000' }, 'PUBLIC_URL'],
    ['PUBLIC_URL=ftp://', { PUBLIC_URL: 'ftp://example.com' }, 'PUBLIC_URL'],
    ['DATABASE_URL=mysql://x', { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    ['DATABASE_URL garbage', { DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    ['REDIS_URL=http://', { REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'],
    ['EMAIL_TRANSPORT=pigeon', { EMAIL_TRANSPORT: 'pigeon' }, 'EMAIL_TRANSPORT'],
    ['EMAIL_TRANSPORT=smtp without SMTP_URL', { EMAIL_TRANSPORT: 'smtp' }, 'SMTP_URL'],
    ['SMTP_URL=http://', { EMAIL_TRANSPORT: 'smtp', SMTP_URL: 'http://mail' }, 'SMTP_URL'],
    ['SMS_TRANSPORT=fax', { SMS_TRANSPORT: 'fax' }, 'SMS_TRANSPORT'],
    ['SMS_TRANSPORT=twilio without an account', { SMS_TRANSPORT: 'twilio' }, 'TWILIO_ACCOUNT_SID'],
    ['SMS_TRANSPORT=twilio without a token', { SMS_TRANSPORT: 'twilio', TWILIO_ACCOUNT_SID: PRODUCTION.TWILIO_ACCOUNT_SID }, 'TWILIO_AUTH_TOKEN'],
    ['SMS_TRANSPORT=twilio without a sender', { SMS_TRANSPORT: 'twilio', TWILIO_ACCOUNT_SID: PRODUCTION.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: 't' }, 'TWILIO_FROM'],
    ['TWILIO_BASE_URL=ftp://', { TWILIO_BASE_URL: 'ftp://x' }, 'TWILIO_BASE_URL'],
    ['PHONE_LOOKUP=maybe', { PHONE_LOOKUP: 'maybe' }, 'PHONE_LOOKUP'],
    ['PHONE_LOOKUP=twilio without an account', { PHONE_LOOKUP: 'twilio' }, 'TWILIO_ACCOUNT_SID'],
    ['RATE_LIMIT=sometimes', { RATE_LIMIT: 'sometimes' }, 'RATE_LIMIT'],
    ['RATE_LIMIT=off in production', { ...PRODUCTION, RATE_LIMIT: 'off' }, 'RATE_LIMIT'],
    ['production without SECRET_KEY', { ...PRODUCTION, SECRET_KEY: '' }, 'SECRET_KEY'],
    ['NODE_ENV=production alone', { NODE_ENV: 'production' }, 'SECRET_KEY'],
    ['a short SECRET_KEY', { SECRET_KEY: 'short' }, 'SECRET_KEY'],
    ['production with the e-mail outbox', { ...PRODUCTION, EMAIL_TRANSPORT: 'outbox' }, 'EMAIL_TRANSPORT'],
    ['production with the SMS outbox', { ...PRODUCTION, SMS_TRANSPORT: 'outbox' }, 'SMS_TRANSPORT'],
    ['production without PUBLIC_URL', { ...PRODUCTION, PUBLIC_URL: '' }, 'PUBLIC_URL'],
    ['production with a plain-http PUBLIC_URL', { ...PRODUCTION, PUBLIC_URL: 'http://verity.example.com' }, 'PUBLIC_URL'],
    ['production with a localhost PUBLIC_URL', { ...PRODUCTION, PUBLIC_URL: 'https://localhost:3000' }, 'PUBLIC_URL'],
    ['production without TRUST_PROXY', { ...PRODUCTION, TRUST_PROXY: '' }, 'TRUST_PROXY'],
    ['TRUST_PROXY=*', { TRUST_PROXY: '*' }, 'TRUST_PROXY'],
    ['TRUST_PROXY with a /33 prefix', { TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
    ['TRUST_PROXY with a host name', { TRUST_PROXY: '10.0.0.1,proxy.internal' }, 'TRUST_PROXY'],
    ['TRUST_PROXY=true', { TRUST_PROXY: 'true' }, 'TRUST_PROXY'],
    ['a short METRICS_TOKEN', { METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    ['REQUEST_TIMEOUT_SECONDS=0', { REQUEST_TIMEOUT_SECONDS: '0' }, 'REQUEST_TIMEOUT_SECONDS'],
    ['SESSION_ABSOLUTE_SECONDS=soon', { SESSION_ABSOLUTE_SECONDS: 'soon' }, 'SESSION_ABSOLUTE_SECONDS'],
    ['SESSION_IDLE_SECONDS=0', { SESSION_IDLE_SECONDS: '0' }, 'SESSION_IDLE_SECONDS'],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ['a value with a newline', { PORT: '3000\nINJECTED=1' }, 'PORT'],
    ['a value with terminal escapes', { EMAIL_TRANSPORT: 'smtp\u001b[2J\r' }, 'EMAIL_TRANSPORT'],
    ['a huge value', { RATE_LIMIT: 'x'.repeat(10_000) }, 'RATE_LIMIT'],
  ])('refuses %s with one line naming %s', (_label, env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(`${variable}: `)).toBe(true);
    expect(message).not.toMatch(/[\n\r\u2028\u2029]/);
    // eslint-disable-next-line no-control-regex
    expect(message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(message.length).toBeLessThanOrEqual(300);
  });

  it('never echoes a database password in an error', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://admin:hunter2secret@db/x' })).toThrow(ConfigError);
    try {
      loadConfig({ DATABASE_URL: 'mysql://admin:hunter2secret@db/x' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2secret');
    }
  });
});

/** Runs the real server entry point with an environment, as an operator would. */
function startServer(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'verity-config-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'node_modules/tsx/dist/cli.mjs'), join(projectRoot, 'src/server.ts')], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not exit; stderr: ${stderr}`));
    }, 25_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // Refused before touching the data folder: nothing was created in it.
      expect(readdirSync(dataDir)).toEqual([]);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('starting the server with a bad environment', () => {
  it.each<[Record<string, string>, string]>([
    [{ PORT: 'abc' }, 'PORT'],
    [{ EMAIL_TRANSPORT: 'smtp' }, 'SMTP_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ...PRODUCTION, RATE_LIMIT: 'off' }, 'RATE_LIMIT'],
  ])('exits non-zero with one line naming the variable (%j)', async (env, variable) => {
    const { code, stdout, stderr } = await startServer(env);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const lines = stderr.trimEnd().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(lines[0]).not.toMatch(/\bat \w|node_modules|\.ts:\d/);
    expect(stdout).toBe('');
  }, 30_000);
});
