/** Retry policy: exponential backoff from 2 s, capped at 10 minutes, then give up. */
export const delivery = {
  maxAttempts: 8,
  firstRetrySeconds: 2,
  maxRetrySeconds: 600,
  /** A claimed message whose process died is claimed again after this long. */
  claimSeconds: 60,
  /**
   * After a hand-off whose outcome is unknown, the next attempt (which first asks the
   * provider whether it has the message) waits at least this long, so that a copy the
   * provider did accept has left its queue and shows in its lists.
   */
  uncertainRetrySeconds: 30,
  batchSize: 20,
} as const;

export function backoffSeconds(attempt: number): number {
  return Math.min(delivery.maxRetrySeconds, delivery.firstRetrySeconds * 2 ** (attempt - 1));
}

/**
 * last_error starts with this when the attempt may have reached the provider; the next
 * attempt is then handed over with `mayHaveBeenSent`. Operators read it there too.
 */
export const OUTCOME_UNKNOWN = 'outcome unknown: ';
