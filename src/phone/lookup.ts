/**
 * A carrier lookup of a number's line type, on top of the numbering plan
 * (PHONE_LOOKUP=twilio uses Twilio Lookup v2 line_type_intelligence).
 */
export interface LineTypeLookup {
  /** Throws LookupUnavailableError when the provider cannot answer (down, timeout, 5xx). */
  lineType(e164: string): Promise<LookupResult>;
}

export interface LookupResult {
  /**
   * The provider's line type as it reports it, e.g. Twilio's 'mobile', 'landline',
   * 'fixedVoip', 'nonFixedVoip', 'tollFree', 'premium', 'sharedCost', 'uan', 'voicemail',
   * 'pager', 'personal', 'unknown'; null when it has no answer for this number.
   */
  lineType: string | null;
  carrierName: string | null;
}

export class LookupUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LookupUnavailableError';
  }
}
