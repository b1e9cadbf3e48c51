import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';

const good = {
  SMS_TRANSPORT: 'twilio',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef',
  TWILIO_FROM: '+15005550006',
};

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('configuration was accepted');
}

describe('Twilio configuration', () => {
  it('accepts a complete Twilio setting and keeps its values', () => {
    const config = loadConfig({ ...good, PHONE_LOOKUP: 'twilio', TWILIO_BASE_URL: 'http://127.0.0.1:4010/' });
    expect(config.smsTransport).toBe('twilio');
    expect(config.phoneLookup).toBe('twilio');
    expect(config.twilio).toEqual({
      accountSid: good.TWILIO_ACCOUNT_SID,
      authToken: good.TWILIO_AUTH_TOKEN,
      from: good.TWILIO_FROM,
      baseUrl: 'http://127.0.0.1:4010',
      lookupBaseUrl: 'http://127.0.0.1:4010',
    });
  });

  it('names the missing variable when SMS_TRANSPORT=twilio', () => {
    for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const) {
      const env: Record<string, string> = { ...good };
      delete env[name];
      expect(refusal(env)).toMatch(new RegExp(`^${name}: is required`));
    }
  });

  it('needs the SID and token, but no sender, for PHONE_LOOKUP=twilio alone', () => {
    expect(refusal({ PHONE_LOOKUP: 'twilio', TWILIO_ACCOUNT_SID: good.TWILIO_ACCOUNT_SID })).toMatch(/^TWILIO_AUTH_TOKEN: is required/);
    const config = loadConfig({ PHONE_LOOKUP: 'twilio', TWILIO_ACCOUNT_SID: good.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'x' });
    expect(config.smsTransport).toBe('outbox');
    expect(config.twilio.from).toBeUndefined();
  });

  it('refuses an SID that is not an account SID (an API key SID, a token, a path)', () => {
    for (const sid of ['SK0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdef', 'AC123/../../x']) {
      expect(refusal({ ...good, TWILIO_ACCOUNT_SID: sid })).toMatch(/^TWILIO_ACCOUNT_SID: must be an account SID/);
    }
  });

  it('refuses a sender that is not an E.164 number', () => {
    for (const from of ['15005550006', 'Verity', '+0123456789', '+1 500 555 0006']) {
      expect(refusal({ ...good, TWILIO_FROM: from })).toMatch(/^TWILIO_FROM: must be a phone number in E\.164 form/);
    }
  });

  it('refuses a base URL that is not http(s), and plain http in production', () => {
    expect(refusal({ ...good, TWILIO_BASE_URL: 'ftp://example.com' })).toMatch(/^TWILIO_BASE_URL: must start with/);
    expect(refusal({ ...good, TWILIO_BASE_URL: 'not a url' })).toMatch(/^TWILIO_BASE_URL: is not a valid URL/);
    const production = { ...good, NODE_ENV: 'production', SECRET_KEY: 'k'.repeat(32), EMAIL_TRANSPORT: 'smtp', SMTP_URL: 'smtp://mail.example', PUBLIC_URL: 'https://verity.example', TRUST_PROXY: 'none' };
    expect(refusal({ ...production, TWILIO_BASE_URL: 'http://twilio.internal' })).toMatch(/^TWILIO_BASE_URL: must use https/);
    expect(loadConfig(production).twilio.baseUrl).toBe('https://api.twilio.com');
    expect(refusal({ ...production, PHONE_LOOKUP: 'twilio', TWILIO_LOOKUP_BASE_URL: 'http://lookup.internal' })).toMatch(/^TWILIO_LOOKUP_BASE_URL: must use https/);
    expect(refusal({ ...good, TWILIO_LOOKUP_BASE_URL: 'lookups' })).toMatch(/^TWILIO_LOOKUP_BASE_URL: is not a valid URL/);
  });

  it('refuses an unknown SMS_TRANSPORT or PHONE_LOOKUP', () => {
    expect(refusal({ SMS_TRANSPORT: 'nexmo' })).toMatch(/^SMS_TRANSPORT: must be one of outbox, twilio/);
    expect(refusal({ PHONE_LOOKUP: 'yes' })).toMatch(/^PHONE_LOOKUP: must be one of none, twilio/);
  });

  it('ignores Twilio variables while Twilio is not used', () => {
    const config = loadConfig({ TWILIO_ACCOUNT_SID: 'placeholder', TWILIO_FROM: 'Verity' });
    expect(config.smsTransport).toBe('outbox');
    expect(config.phoneLookup).toBe('none');
  });
});
