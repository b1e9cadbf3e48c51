import { durationInWords, secondsUntil, type Clock } from '../platform/clock.js';
import { AppError } from '../platform/errors.js';
import type { LimitState, PolicyName, RateLimiter } from '../platform/ratelimit.js';
import { countryName } from './parse.js';

/** Who a code would go to, and who asks for it. */
export interface SendTarget {
  e164: string;
  country: string | null;
  accountId: string;
  ip: string | null;
}

interface Cap {
  policy: PolicyName;
  key: string;
  /** The limit, when it is not the policy table's (per-country caps come from config). */
  limit?: number;
  detail: string;
}

/**
 * Caps on codes sent, against SMS pumping (fraudsters triggering codes to premium numbers
 * they are paid for) and against flooding a stranger's phone: per number, per account and
 * per IP, per hour and per day, and per destination country per day. The policies live in
 * src/platform/ratelimit.ts; the country caps in config (PHONE_COUNTRY_DAILY_CAPS).
 */
export class SendLimits {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly countryCaps: Readonly<Record<string, number>>,
  ) {}

  private caps(target: SendTarget): Cap[] {
    const country = target.country ?? '001';
    const caps: Cap[] = [
      { policy: 'phone_send_number_hour', key: target.e164, detail: 'This number has been sent too many codes in the last hour.' },
      { policy: 'phone_send_number_day', key: target.e164, detail: 'This number has been sent too many codes today.' },
      { policy: 'phone_send_account_hour', key: target.accountId, detail: 'You have asked for too many codes in the last hour.' },
      { policy: 'phone_send_account_day', key: target.accountId, detail: 'You have asked for too many codes today.' },
      {
        policy: 'phone_send_country_day',
        key: country,
        limit: this.countryCaps[country] ?? this.countryCaps['*'],
        detail: `We are sending too many codes to ${target.country ? countryName(target.country) : 'this kind of number'} right now.`,
      },
    ];
    if (target.ip) {
      caps.push(
        { policy: 'phone_send_ip_hour', key: target.ip, detail: 'Too many codes were asked for from your network in the last hour.' },
        { policy: 'phone_send_ip_day', key: target.ip, detail: 'Too many codes were asked for from your network today.' },
      );
    }
    return caps;
  }

  /**
   * Refuses (429 rate_limited, with Retry-After) when any cap is used up, then counts the
   * send against every cap. Peeking first means a refusal costs no other cap; the counts
   * after the hit are checked again, so concurrent requests cannot slip past a cap.
   */
  async consume(target: SendTarget): Promise<void> {
    const caps = this.caps(target);
    const before = await Promise.all(caps.map((cap) => this.limiter.peek(cap.policy, cap.key)));
    this.refuseIfOver(caps, before, (state, limit) => state.count >= limit, true);
    const after = await Promise.all(caps.map((cap) => this.limiter.hit(cap.policy, cap.key)));
    this.refuseIfOver(caps, after, (state, limit) => state.count > limit);
  }

  /** `peeked`: the states were only looked at, so the limiter has not counted the refusal yet. */
  private refuseIfOver(caps: Cap[], states: LimitState[], over: (state: LimitState, limit: number) => boolean, peeked = false): void {
    let worst: { cap: Cap; state: LimitState } | undefined;
    caps.forEach((cap, i) => {
      const state = states[i]!;
      // A disabled limiter (RATE_LIMIT=off) reports count 0: nothing is ever over.
      if (over(state, cap.limit ?? state.limit) && (!worst || state.resetAt > worst.state.resetAt)) worst = { cap, state };
    });
    if (!worst) return;
    if (peeked) this.limiter.noteExceeded(worst.cap.policy);
    const retryAfter = Math.max(1, secondsUntil(this.clock.now(), worst.state.resetAt));
    throw new AppError('rate_limited', {
      detail: `${worst.cap.detail} Please try again in ${durationInWords(retryAfter)}.`,
      retryAfter,
      extra: { limit: worst.cap.policy },
    });
  }
}

