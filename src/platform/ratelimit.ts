import type { Clock } from './clock.js';
import { secondsUntil } from './clock.js';
import { AppError } from './errors.js';
import type { CounterStore } from './counter-stores.js';

export { DbCounterStore, FallbackCounterStore, RedisCounterStore, type CounterStore, type FallbackEvents } from './counter-stores.js';

/**
 * Every rate limit in Verity, in one table: name → limit per window. Windows are fixed
 * unless `sliding`: then the window is cut into SLICES slices and every hit of the last
 * `windowSeconds` counts (with the rest of the oldest slice: a hit is remembered between one
 * window and one window plus a slice), so no `windowSeconds` ever holds more than `limit`
 * counted hits, and a limit reached lasts until enough hits have aged out.
 * Keys are chosen by the caller (an IP, an account id, a phone number...).
 */
export const policies = {
  /** Sign-in attempts from one IP, successful or not. */
  signin_ip: { limit: 60, windowSeconds: 15 * 60 },
  /**
   * Failed sign-ins for one login as typed (normalised) from one source (an IPv4 address or
   * an IPv6 /64): the temporary lock, "10 in any 15 minutes". Known and unknown logins alike.
   */
  signin_failures: { limit: 10, windowSeconds: 15 * 60, sliding: true },
  /** Failed sign-ins from one source across every login: bounds spraying one password over many logins. */
  signin_source_failures: { limit: 30, windowSeconds: 15 * 60, sliding: true },
  /**
   * Failed sign-ins for one account from every source. It never locks (a botnet could then
   * lock the owner out); past it, a right password also needs a code e-mailed to the account.
   */
  signin_account_failures: { limit: 50, windowSeconds: 60 * 60, sliding: true },
  /** Failed verifications at one challenge (it lives 10 minutes), whatever the method. */
  challenge_failures: { limit: 10, windowSeconds: 10 * 60, sliding: true },
  /** Failed verifications across every challenge of one account, so a new challenge buys no new guesses. */
  challenge_account_failures: { limit: 20, windowSeconds: 60 * 60, sliding: true },
  /** Codes sent for challenges (e-mail, SMS, calls) per account. */
  challenge_send_account: { limit: 10, windowSeconds: 60 * 60 },
  /** New accounts from one IP. */
  signup_ip: { limit: 10, windowSeconds: 60 * 60 },
  /** E-mail verification messages an account may ask for. */
  email_verification_send: { limit: 5, windowSeconds: 60 * 60 },
  /** Admin setup token guesses from one IP. */
  admin_setup_ip: { limit: 10, windowSeconds: 15 * 60 },
  /** "Was this article helpful?" votes from one IP, cookie or not: bounds ballot stuffing. */
  help_vote: { limit: 30, windowSeconds: 15 * 60 },
  /** Asking the provider for one message's status when its callback is late: once per 30 s. */
  delivery_recheck: { limit: 1, windowSeconds: 30 },
  /** Twilio status callbacks from one IP (Twilio spreads its callbacks over many addresses). */
  twilio_webhook_ip: { limit: 600, windowSeconds: 60 },
  /** Phone verifications started per account / IP (numbers that passed screening): bounds carrier lookups and probing for numbers in use. */
  phone_start_account: { limit: 20, windowSeconds: 60 * 60 },
  phone_start_ip: { limit: 60, windowSeconds: 60 * 60 },
  /** Verification codes (SMS or call) sent, against SMS pumping: per number, account and IP, per hour and per day. */
  phone_send_number_hour: { limit: 8, windowSeconds: 60 * 60 },
  phone_send_number_day: { limit: 20, windowSeconds: 24 * 60 * 60 },
  phone_send_account_hour: { limit: 8, windowSeconds: 60 * 60 },
  phone_send_account_day: { limit: 20, windowSeconds: 24 * 60 * 60 },
  phone_send_ip_hour: { limit: 20, windowSeconds: 60 * 60 },
  phone_send_ip_day: { limit: 100, windowSeconds: 24 * 60 * 60 },
  /** Codes sent per destination country per day; the limit per country is config.phoneCountryDailyCaps (this is only the fallback). */
  phone_send_country_day: { limit: 2000, windowSeconds: 24 * 60 * 60 },
  /** Forgot-password requests per IP and per login as typed (answered alike for unknown logins). */
  recovery_ip: { limit: 20, windowSeconds: 60 * 60 },
  recovery_login: { limit: 5, windowSeconds: 60 * 60 },
  /** Reset links mailed to one account: more requests are answered alike and mail nothing. */
  recovery_account: { limit: 5, windowSeconds: 60 * 60 },
  /** Anonymous compromise reports per IP. */
  compromised_report_ip: { limit: 10, windowSeconds: 60 * 60 },
  /** Support tickets opened per IP and per requester e-mail (each mails that address). */
  support_ticket_ip: { limit: 10, windowSeconds: 60 * 60 },
  support_ticket_email: { limit: 5, windowSeconds: 60 * 60 },
  /** Requester replies to one ticket (page, API or e-mail): bounds flooding the agents' queue. */
  support_ticket_reply: { limit: 30, windowSeconds: 60 * 60 },
  /** E-mail change requests per account (each mails a stranger's inbox). */
  email_change_account: { limit: 5, windowSeconds: 24 * 60 * 60 },
  /** "Forgot your answer?" links mailed to one account (each goes to the member's own inbox). */
  forgot_answer_account: { limit: 3, windowSeconds: 60 * 60 },
  /** Security-reset requests (lost phone) per IP, per login as typed and per contact address: each one mails a stranger. */
  security_reset_ip: { limit: 5, windowSeconds: 60 * 60 },
  security_reset_login: { limit: 3, windowSeconds: 24 * 60 * 60 },
  security_reset_contact: { limit: 3, windowSeconds: 24 * 60 * 60 },
  /** Information a requester adds to one reset request (each wakes an agent). */
  security_reset_info: { limit: 10, windowSeconds: 24 * 60 * 60 },
  /** New set-a-password links for one completed reset (the first one may have expired unread). */
  security_reset_link: { limit: 3, windowSeconds: 24 * 60 * 60 },
} satisfies Record<string, Policy>;

export interface Policy {
  limit: number;
  windowSeconds: number;
  sliding?: boolean;
}

export type PolicyName = keyof typeof policies;

/** Slices per window of a sliding policy: a hit is remembered at most 1/SLICES of a window too long. */
export const SLICES = 15;

export interface LimitState {
  /** Hits counted now (for a sliding policy, those of the last window and a part of a slice). */
  count: number;
  limit: number;
  /**
   * When the count is back under the limit: the window's end for a fixed policy; for a
   * sliding one, once enough earlier hits have aged out (when all of them have, if not over).
   */
  resetAt: Date;
  exceeded: boolean;
}

/** A counted hit, which `RateLimiter.refund` can take back (a success that was reserved as a failure). */
export interface Hit extends LimitState {
  /** The store key the hit went to; empty when limits are off. */
  readonly slot: string;
}

interface Slots {
  policy: Policy;
  /** Oldest first; the last one is the slice (or fixed window) that holds now. */
  starts: number[];
  sliceMs: number;
  windowMs: number;
  key: (start: number) => string;
  current: string;
  older: string[];
  keepUntil: Date;
  keepSeconds: number;
}

export class RateLimiter {
  /** Told of every hit past a limit (the app counts them in a metric, by policy). */
  onExceeded: ((name: PolicyName) => void) | undefined;

  constructor(
    private readonly store: CounterStore,
    private readonly clock: Clock,
    private readonly enabled = true,
  ) {}

  /** For a caller that refuses on `peek` (without a hit): counts the refusal as `hit` would. */
  noteExceeded(name: PolicyName): void {
    this.onExceeded?.(name);
  }

  private slots(name: PolicyName, key: string): Slots {
    const policy: Policy = policies[name];
    const windowMs = policy.windowSeconds * 1000;
    const sliceMs = policy.sliding ? windowMs / SLICES : windowMs;
    const now = this.clock.now().getTime();
    const current = Math.floor(now / sliceMs) * sliceMs;
    // A sliding policy counts the slice holding now and the SLICES before it: the oldest holds
    // `now - window`, so every hit of the last window is counted.
    const starts = policy.sliding ? Array.from({ length: SLICES + 1 }, (_, i) => current - (SLICES - i) * sliceMs) : [current];
    const slotKey = (start: number) => `${name}:${key}:${start}`;
    // A slice is counted until one window after its end.
    const keepMs = policy.sliding ? sliceMs + windowMs : windowMs;
    return {
      policy,
      starts,
      sliceMs,
      windowMs,
      key: slotKey,
      current: slotKey(current),
      older: starts.slice(0, -1).map(slotKey),
      keepUntil: new Date(current + keepMs),
      keepSeconds: keepMs / 1000,
    };
  }

  /** The state for these per-slot counts (oldest first); `exceeded` once the count reaches the limit. */
  private state(s: Slots, counts: number[]): LimitState {
    const { policy, starts, sliceMs, windowMs } = s;
    const count = counts.reduce((a, b) => a + b, 0);
    const current = starts[starts.length - 1]!;
    if (!policy.sliding) return { count, limit: policy.limit, resetAt: new Date(current + windowMs), exceeded: count >= policy.limit };
    // Under the limit again when the oldest slices have aged out (a slice leaves the count one
    // window after its end) and what remains is under it; if not over, once all have.
    let remaining = count;
    let resetAt = current + sliceMs + windowMs;
    for (let i = 0; i < starts.length && remaining >= policy.limit; i++) {
      remaining -= counts[i]!;
      resetAt = starts[i]! + sliceMs + windowMs;
    }
    return { count, limit: policy.limit, resetAt: new Date(resetAt), exceeded: count >= policy.limit };
  }

  private idle(name: PolicyName): Hit {
    const s = this.slots(name, '');
    return { ...this.state(s, s.starts.map(() => 0)), slot: '' };
  }

  /**
   * Counts one hit and reports the state after it; `exceeded` means this hit passed the
   * limit. Concurrent hits each see their own count (the increment is one atomic step), so
   * reserving a hit before the work it guards makes the limit a hard cap.
   */
  async hit(name: PolicyName, key: string): Promise<Hit> {
    if (!this.enabled) return this.idle(name);
    const s = this.slots(name, key);
    const current = await this.store.increment(s.current, s.keepUntil, s.keepSeconds);
    const older = await this.store.getMany(s.older);
    const state = this.state(s, [...older, current]);
    const exceeded = state.count > s.policy.limit;
    if (exceeded) this.onExceeded?.(name);
    return { ...state, exceeded, slot: s.current };
  }

  /** Takes a reserved hit back (the guarded attempt succeeded). */
  async refund(hit: Hit): Promise<void> {
    if (hit.slot) await this.store.decrement(hit.slot);
  }

  /** The state without counting a hit; `exceeded` means the limit is already used up. */
  async peek(name: PolicyName, key: string): Promise<LimitState> {
    if (!this.enabled) return this.idle(name);
    const s = this.slots(name, key);
    return this.state(s, await this.store.getMany([...s.older, s.current]));
  }

  /** Counts one hit, refusing with 429 rate_limited when the limit is passed. */
  async consume(name: PolicyName, key: string): Promise<LimitState> {
    const state = await this.hit(name, key);
    if (state.exceeded) throw this.refusal(state);
    return state;
  }

  /** Forgets every counted hit of a key (e.g. a successful sign-in clears its login's failures). */
  async reset(name: PolicyName, key: string): Promise<void> {
    if (!this.enabled) return;
    const s = this.slots(name, key);
    await this.store.deleteMany([...s.older, s.current]);
  }

  sweep(): Promise<void> {
    return this.store.sweep(this.clock.now());
  }

  refusal(state: LimitState): AppError {
    const retryAfter = Math.max(1, secondsUntil(this.clock.now(), state.resetAt));
    return new AppError('rate_limited', { retryAfter });
  }
}
