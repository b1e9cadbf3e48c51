import type { Clock } from '../platform/clock.js';
import type { DeliveryReport } from '../platform/messaging/delivery.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { DeliveryRecheck } from '../platform/twilio/recheck.js';

/** How long a code may sit at "queued"/"sent" with no word from the provider before we ask it. */
export const RECHECK_AFTER_SECONDS = 60;

/** Given a code's delivery report, asks the provider again if it is late; true when a new word was recorded. */
export type RefreshDelivery = (outboxId: string, report: DeliveryReport) => Promise<boolean>;

/**
 * A lost status callback must not leave a member reading "on its way" for ever: a code
 * handed over a minute ago with no word since is rechecked with the provider, at most once
 * per 30 s per message (`delivery_recheck`). Undefined when the provider cannot be asked.
 */
export function lateDeliveryRefresh(deps: { clock: Clock; limiter: RateLimiter; recheck?: DeliveryRecheck | undefined }): RefreshDelivery | undefined {
  const { clock, limiter, recheck } = deps;
  if (!recheck) return undefined;
  return async (outboxId, report) => {
    if (report.status !== 'queued' && report.status !== 'sent') return false;
    if (clock.now().getTime() - report.updatedAt.getTime() < RECHECK_AFTER_SECONDS * 1000) return false;
    if ((await limiter.hit('delivery_recheck', outboxId)).exceeded) return false;
    return recheck(outboxId);
  };
}
