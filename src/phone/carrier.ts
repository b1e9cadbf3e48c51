import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { addSeconds, type Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/database.js';
import type { Metrics } from '../platform/metrics.js';
import { LookupUnavailableError, type LineTypeLookup } from './lookup.js';
import { findCachedLookup, saveLookup } from './queries.js';

/** A number's line type rarely changes; a lookup costs money. */
export const LOOKUP_CACHE_SECONDS = 30 * 24 * 3600;

/**
 * The carrier lookup (PHONE_LOOKUP=twilio) with a per-number cache in the database.
 *
 * When the provider cannot answer (LookupUnavailableError: down, timeout, 5xx) we FAIL OPEN:
 * the numbering plan's verdict stands, so an outage at the provider does not stop members
 * from verifying. The plan already refuses every VoIP, toll-free or premium range it knows,
 * and the operator's VoIP list still applies; what is lost for the outage is only the
 * carrier's view of ported or unlisted VoIP numbers. The failure is not cached (the next
 * try asks again), is logged, and is counted in verity_phone_lookup_total{result="unavailable"}
 * so an alert can fire. Any other error from the lookup is treated the same way, logged as
 * an error.
 */
export class CarrierScreen {
  private readonly counter: Counter<'result'>;

  constructor(
    private readonly deps: { db: Db; clock: Clock; lookup: LineTypeLookup; log: Logger; metrics: Metrics },
  ) {
    const existing = deps.metrics.registry.getSingleMetric('verity_phone_lookup_total');
    this.counter =
      (existing as Counter<'result'> | undefined) ??
      new Counter({
        name: 'verity_phone_lookup_total',
        help: 'Carrier line-type lookups by result (cached, looked_up, unavailable)',
        labelNames: ['result'] as const,
        registers: [deps.metrics.registry],
      });
  }

  /** The carrier's line type for a number, or null when it has none or cannot answer now. */
  async lineType(e164: string): Promise<string | null> {
    const { db, clock, lookup, log } = this.deps;
    const now = clock.now();
    const cached = await findCachedLookup(db, e164, addSeconds(now, -LOOKUP_CACHE_SECONDS));
    if (cached) {
      this.counter.inc({ result: 'cached' });
      return cached.line_type;
    }
    try {
      const result = await lookup.lineType(e164);
      await saveLookup(db, { e164, line_type: result.lineType, carrier_name: result.carrierName, looked_up_at: now });
      this.counter.inc({ result: 'looked_up' });
      return result.lineType;
    } catch (error) {
      this.counter.inc({ result: 'unavailable' });
      if (error instanceof LookupUnavailableError) {
        log.warn({ err: error, number: mask(e164) }, 'line-type lookup unavailable; using the numbering plan only');
      } else {
        log.error({ err: error, number: mask(e164) }, 'line-type lookup failed; using the numbering plan only');
      }
      return null;
    }
  }
}

/** Logs keep the country code and the last two digits, enough to follow a case. */
export function mask(e164: string): string {
  return e164.length > 6 ? `${e164.slice(0, 4)}${'•'.repeat(e164.length - 6)}${e164.slice(-2)}` : e164;
}
