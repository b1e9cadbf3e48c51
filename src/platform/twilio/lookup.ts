import type { Config } from '../config.js';
import { LookupUnavailableError, type LineTypeLookup, type LookupResult } from '../../phone/lookup.js';
import { TwilioClient, TwilioError, type TwilioClientOptions } from './client.js';

/** Lookup runs while a member waits on POST /v1/me/phone: a shorter timeout than sending. */
const LOOKUP_TIMEOUT_MS = 5_000;

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Twilio Lookup v2 with line_type_intelligence. An answer without a line type (an invalid
 * number, or one Twilio cannot classify) is `{ lineType: null }`; a provider that cannot
 * answer at all (down, slow, throttling, refusing our credentials) throws
 * LookupUnavailableError, and the caller decides what that means.
 */
export function createTwilioLookup(config: Pick<Config, 'twilio'>, options: TwilioClientOptions = {}): LineTypeLookup {
  const { accountSid, authToken, baseUrl, lookupBaseUrl } = config.twilio;
  if (!accountSid || !authToken) throw new Error('Twilio settings are missing (loadConfig checks them)');
  const client = new TwilioClient({ accountSid, authToken, baseUrl, lookupBaseUrl }, { timeoutMs: LOOKUP_TIMEOUT_MS, ...options });

  return {
    async lineType(e164: string): Promise<LookupResult> {
      let body: Record<string, unknown>;
      try {
        body = await client.lookupPhoneNumber(e164, 'line_type_intelligence');
      } catch (error) {
        // 404: Twilio knows nothing of this number; 400: it is not a number. Both are answers.
        if (error instanceof TwilioError && (error.status === 404 || error.status === 400)) return { lineType: null, carrierName: null };
        const reason = error instanceof Error ? error.message : String(error);
        throw new LookupUnavailableError(`twilio lookup unavailable: ${reason}`);
      }
      const info = body.line_type_intelligence;
      if (info === null || typeof info !== 'object') return { lineType: null, carrierName: null };
      const fields = info as Record<string, unknown>;
      return { lineType: stringOrNull(fields.type), carrierName: stringOrNull(fields.carrier_name) };
    },
  };
}
