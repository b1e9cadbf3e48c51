import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { projectRoot } from '../../src/platform/paths.js';

/** API.md's configuration table (the contract): variable → default as written there. */
const CONTRACT: Record<string, string> = {
  PORT: '`3000`, `127.0.0.1`',
  HOST: '`3000`, `127.0.0.1`',
  PUBLIC_URL: '`http://localhost:$PORT`',
  DATA_DIR: '`./data`',
  DATABASE_URL: 'unset',
  REDIS_URL: 'unset (database-backed)',
  NODE_ENV: 'unset',
  EMAIL_TRANSPORT: '`outbox`',
  SMTP_URL: '`outbox`',
  SMS_TRANSPORT: '`outbox`',
  TWILIO_ACCOUNT_SID: '`outbox`',
  TWILIO_AUTH_TOKEN: '`outbox`',
  TWILIO_FROM: '`outbox`',
  TWILIO_BASE_URL: '`outbox`',
  PHONE_LOOKUP: '`none`',
  RATE_LIMIT: 'on',
  SECRET_KEY: '—',
};

/** The rows of the markdown table that follows a heading: variable → default cell. */
function configTable(markdown: string, heading: RegExp): Map<string, string> {
  const start = markdown.search(heading);
  expect(start, `heading ${heading}`).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string>();
  let inTable = false;
  for (const line of markdown.slice(start).split('\n').slice(1)) {
    if (line.startsWith('|')) {
      inTable = true;
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      if (cells.length !== 3 || /^-+$/.test(cells[0]!) || cells[0] === 'variable') continue;
      for (const [, name] of cells[0]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) rows.set(name!, cells[2]!);
    } else if (inTable) {
      break;
    }
  }
  return rows;
}

/** Every environment variable config.ts reads. */
function variablesRead(): Set<string> {
  const source = readFileSync(join(projectRoot, 'src/platform/config.ts'), 'utf8');
  const names = new Set<string>();
  for (const [, name] of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) names.add(name!);
  for (const [, name] of source.matchAll(/\benv, '([A-Z][A-Z0-9_]*)'/g)) names.add(name!);
  return names;
}

const readme = configTable(readFileSync(join(projectRoot, 'README.md'), 'utf8'), /^## Configuration$/m);

describe("README's configuration table", () => {
  it('documents every variable config.ts reads, and only those', () => {
    const read = variablesRead();
    expect(read.size).toBeGreaterThan(20);
    expect([...read].filter((v) => !readme.has(v)), 'read but not documented').toEqual([]);
    expect([...readme.keys()].filter((v) => !read.has(v)), 'documented but never read').toEqual([]);
  });

  it("carries every variable of API.md's table with the contract's default", () => {
    for (const [name, fallback] of Object.entries(CONTRACT)) {
      expect(readme.get(name), name).toBeDefined();
      // Same default, give or take backticks.
      expect(readme.get(name)!.replace(/`/g, ''), name).toBe(fallback.replace(/`/g, ''));
    }
  });

  it.skipIf(!existsSync(join(projectRoot, '../shared/API.md')))('matches API.md itself where the contract is checked out beside the project', () => {
    const api = configTable(readFileSync(join(projectRoot, '../shared/API.md'), 'utf8'), /^## Configuration/m);
    expect(Object.fromEntries(api)).toEqual(CONTRACT);
  });

  it('states the defaults loadConfig really applies', () => {
    const config = loadConfig({});
    const actual: Record<string, unknown> = {
      PORT: config.port,
      HOST: config.host,
      PUBLIC_URL: config.publicUrl,
      DATA_DIR: config.dataDir,
      EMAIL_TRANSPORT: config.emailTransport,
      EMAIL_FROM: config.emailFrom,
      SMS_TRANSPORT: config.smsTransport,
      PHONE_LOOKUP: config.phoneLookup,
      PHONE_ALLOWED_COUNTRIES: config.phoneAllowedCountries,
      PHONE_COUNTRY_DAILY_CAPS: config.phoneCountryDailyCaps,
      RATE_LIMIT: config.rateLimit,
      SESSION_ABSOLUTE_SECONDS: config.sessionAbsoluteSeconds,
      SESSION_IDLE_SECONDS: config.sessionIdleSeconds,
      COUNTRY_HEADER: config.countryHeader,
      LOG_LEVEL: config.logLevel,
      DATABASE_URL: config.databaseUrl,
      REDIS_URL: config.redisUrl,
      TRUST_PROXY: config.trustProxy,
      SECRET_KEY: config.secretKey,
    };
    expect(actual).toEqual({
      PORT: 3000,
      HOST: '127.0.0.1',
      PUBLIC_URL: 'http://localhost:3000',
      DATA_DIR: join(process.cwd(), 'data'),
      EMAIL_TRANSPORT: 'outbox',
      EMAIL_FROM: 'Verity <no-reply@verity.local>',
      SMS_TRANSPORT: 'outbox',
      PHONE_LOOKUP: 'none',
      PHONE_ALLOWED_COUNTRIES: null,
      PHONE_COUNTRY_DAILY_CAPS: { '*': 2000 },
      RATE_LIMIT: true,
      SESSION_ABSOLUTE_SECONDS: 30 * 86400,
      SESSION_IDLE_SECONDS: 7 * 86400,
      COUNTRY_HEADER: 'cf-ipcountry',
      LOG_LEVEL: 'info',
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      TRUST_PROXY: undefined,
      SECRET_KEY: undefined,
    });
    // …and the README says the same.
    expect(readme.get('EMAIL_FROM')).toBe('`Verity <no-reply@verity.local>`');
    expect(readme.get('PHONE_ALLOWED_COUNTRIES')).toBe('`all`');
    expect(readme.get('PHONE_COUNTRY_DAILY_CAPS')).toBe('`*=2000`');
    expect(readme.get('SESSION_ABSOLUTE_SECONDS')).toBe('30 days, 7 days');
    expect(readme.get('COUNTRY_HEADER')).toBe('`cf-ipcountry`');
    expect(readme.get('LOG_LEVEL')).toBe('`info`');
    expect(readme.get('TRUST_PROXY')).toBe('unset');
  });
});
