import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import { findAccountById } from '../accounts/queries.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds, secondsUntil, type Clock } from '../platform/clock.js';
import type { Random } from '../platform/crypto.js';
import { isUniqueViolation, type Db } from '../platform/db/database.js';
import type { DB, MemberAccount } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { Metrics } from '../platform/metrics.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { Secrets } from '../platform/secrets.js';
import type { AccountView } from '../accounts/view.js';
import { CarrierScreen } from './carrier.js';
import * as codes from './codes.js';
import { wrongCodeDetail } from '../platform/codes.js';
import { SendLimits, type SendTarget } from './limits.js';
import type { LineTypeLookup } from './lookup.js';
import { parsePhone } from './parse.js';
import * as q from './queries.js';
import { checkCountryAllowed, planVerdict, rangeRefusal, withCarrier } from './screen.js';
import { subscriberKey } from './subscriber.js';
import { phoneInUse, resendTooSoon, tooManyAttempts } from './refusals.js';
import { phoneStatus, phoneView, type PhoneStatus } from './status.js';
import { VoipRanges } from './voip-ranges.js';
import { lateDeliveryRefresh, type RefreshDelivery } from './late-delivery.js';
import { notifyPhoneChange, sendCode } from './messages.js';
import { chooseChannel, toView, type PhoneChannel, type VerificationView } from './view.js';
import type { DeliveryRecheck } from '../platform/twilio/recheck.js';
import { PhoneClaims, type OpenCase } from './claims.js';


export interface PhoneDeps {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  metrics: Metrics;
  log: Logger;
  publicUrl: string;
  allowedCountries: ReadonlySet<string> | null;
  countryDailyCaps: Readonly<Record<string, number>>;
  /** The carrier lookup (PHONE_LOOKUP=twilio); absent means the numbering plan alone decides. */
  lookup?: LineTypeLookup | undefined;
  /**
   * Runs before a verified number is removed. Two-step verification plugs its rules in
   * here (a fresh step-up; 409 last_two_step_method when SMS is the only method left).
   */
  removalGuard?: ((accountId: string) => Promise<void>) | undefined;
  /** Asks the SMS/voice provider for a status whose callback is late (Twilio only). */
  recheck?: DeliveryRecheck | undefined;
  /** Opens a support case (a proven "this number is mine now" claim goes to the desk). */
  openCase: OpenCase;
}

/** Verifying a member's phone number by a one-time code (API and pages call this). */
export class PhoneService {
  readonly voipRanges: VoipRanges;
  /** "This number is mine now" claims of recycled numbers (claims.ts). */
  readonly claims: PhoneClaims;
  private readonly limits: SendLimits;
  private readonly carrier: CarrierScreen | null;
  private readonly lateDelivery: RefreshDelivery | undefined;

  constructor(private readonly deps: PhoneDeps) {
    this.voipRanges = new VoipRanges(deps);
    this.limits = new SendLimits(deps.limiter, deps.clock, deps.countryDailyCaps);
    this.carrier = deps.lookup ? new CarrierScreen({ ...deps, lookup: deps.lookup }) : null;
    this.lateDelivery = lateDeliveryRefresh(deps);
    this.claims = new PhoneClaims(deps, this.limits);
  }

  /** Whether the account has a verified number (the gate asks). */
  async hasVerifiedPhone(accountId: string): Promise<boolean> {
    return !!(await q.findVerifiedPhone(this.deps.db, accountId));
  }

  /** The verified number in E.164, or null (a security reset compares the digits a requester gives). */
  async verifiedNumber(accountId: string): Promise<string | null> {
    return (await q.findVerifiedPhone(this.deps.db, accountId))?.e164 ?? null;
  }

  /** The verified number and when, for the agents' view of an account (no verification details). */
  async verifiedPhone(accountId: string): Promise<{ number: string; verifiedAt: string } | null> {
    const row = await q.findVerifiedPhone(this.deps.db, accountId);
    return row ? { number: row.e164, verifiedAt: row.verified_at.toISOString() } : null;
  }

  /**
   * The live account whose verified number is this one (typed with + and its country code,
   * in any of its forms), if any. Recovery asks it to mail a reset link to the account that
   * holds a number without telling the asker which account that is.
   */
  async holderOf(number: string): Promise<string | undefined> {
    let e164: string;
    try {
      e164 = parsePhone(number, undefined).e164;
    } catch {
      return undefined;
    }
    return q.findHolder(this.deps.db, subscriberKey(e164));
  }

  /**
   * Counts a code another domain sends to a verified number (2SV by text or call) against the
   * same anti-pumping caps as verification codes, refusing with 429 when one is used up.
   */
  consumeSendCaps(target: SendTarget): Promise<void> {
    return this.limits.consume(target);
  }

  /** The phone part of the account view (GET /v1/me). */
  readonly viewPart = (account: MemberAccount, view: AccountView): Promise<void> => phoneView(this.deps.db, account, view);

  /** Starts verifying a number: screens it, then sends a code by SMS (or a call to a landline). */
  async start(accountId: string, input: { phone: string; country?: string | undefined; channel?: PhoneChannel | undefined }, meta: RequestMeta): Promise<VerificationView> {
    const { db, clock, limiter } = this.deps;
    const account = await findAccountById(db, accountId);
    if (!account) throw new AppError('not_found');
    const parsed = parsePhone(input.phone, input.country ?? account.country);
    checkCountryAllowed(parsed, this.deps.allowedCountries);
    let verdict = planVerdict(parsed);
    const listed = await this.voipRanges.kindOf(parsed.e164);
    if (listed) throw rangeRefusal(listed);
    const subscriber = subscriberKey(parsed.e164);
    const current = await q.findVerifiedPhone(db, accountId);
    if (current && subscriberKey(current.e164) === subscriber) throw new AppError('phone_already_verified');

    // Past this point each try costs: a probe of who holds a number, maybe a paid lookup.
    await limiter.consume('phone_start_account', accountId);
    if (meta.ip) await limiter.consume('phone_start_ip', meta.ip);
    const holder = await q.findHolder(db, subscriber);
    if (holder && holder !== accountId) {
      await recordAudit(db, clock.now(), { event: 'phone.in_use_refused', accountId, meta, details: { number: parsed.e164, holderId: holder } });
      throw phoneInUse(parsed.e164);
    }
    if (this.carrier) verdict = withCarrier(verdict, await this.carrier.lineType(parsed.e164));

    // The cooldown belongs to the number: correcting a mistyped number is not "too soon".
    const last = await q.lastVerificationOf(db, accountId, parsed.e164);
    if (last && last.resend_after > clock.now()) throw resendTooSoon(clock.now(), last.resend_after);
    const { channel, notice } = chooseChannel(input.channel, verdict.voiceOnly);
    await this.limits.consume({ e164: parsed.e164, country: parsed.country, accountId, ip: meta.ip });

    const row = await this.inTransaction(async (trx, now) => {
      // Starts for one account queue here; each then sees what the one before it committed.
      await q.lockAccountForPhone(trx, accountId);
      const previous = await q.lockPending(trx, accountId);
      const sameNumber = await q.lastVerificationOf(trx, accountId, parsed.e164);
      if (sameNumber && sameNumber.resend_after > now) throw resendTooSoon(now, sameNumber.resend_after);
      // Starting over on the same number soon after a send keeps its cooldown growing.
      const streak = sameNumber && sameNumber.sent_at > addSeconds(now, -codes.STREAK_WINDOW_SECONDS) ? sameNumber.streak + 1 : 1;
      if (previous) await q.finish(trx, previous.id, 'replaced', now);
      const code = codes.newCode(this.deps.random);
      const outboxId = await sendCode(this.deps, trx, parsed.e164, channel, code);
      const inserted = await q.insertVerification(trx, {
        account_id: accountId,
        e164: parsed.e164,
        country: parsed.country,
        line_type: verdict.lineType,
        voice_only: verdict.voiceOnly,
        channel,
        code_hash: codes.codeHash(this.deps.secrets.tokenKey, accountId, parsed.e164, code),
        streak,
        outbox_id: outboxId,
        created_at: now,
        sent_at: now,
        expires_at: addSeconds(now, codes.CODE_TTL_SECONDS),
        resend_after: addSeconds(now, codes.cooldownSeconds(streak)),
        finished_at: null,
      });
      await recordAudit(trx, now, {
        event: 'phone.verification_started',
        accountId,
        meta,
        details: { number: parsed.e164, channel, lineType: verdict.lineType },
      });
      return inserted;
    });
    return toView(row, notice);
  }

  /** Sends a new code for the pending verification (the old one stops working). */
  async resend(accountId: string, input: { channel?: PhoneChannel | undefined }, meta: RequestMeta): Promise<VerificationView> {
    const { db, clock } = this.deps;
    const pending = await q.findPending(db, accountId);
    if (!pending) throw new AppError('no_pending_verification');
    if (pending.sends >= codes.MAX_SENDS) {
      throw new AppError('rate_limited', {
        detail: `We have sent ${codes.MAX_SENDS} codes for this number. Check that the number is right, then start again.`,
        retryAfter: Math.max(1, secondsUntil(clock.now(), pending.resend_after)),
        extra: { limit: 'sends_per_verification' },
      });
    }
    if (pending.resend_after > clock.now()) throw resendTooSoon(clock.now(), pending.resend_after);
    const { channel, notice } = chooseChannel(input.channel ?? pending.channel, pending.voice_only);
    await this.limits.consume({ e164: pending.e164, country: pending.country, accountId, ip: meta.ip });

    const row = await this.inTransaction(async (trx, now) => {
      const code = codes.newCode(this.deps.random);
      const outboxId = await sendCode(this.deps, trx, pending.e164, channel, code);
      const updated = await q.replaceCode(trx, pending.id, now, codes.MAX_SENDS, {
        code_hash: codes.codeHash(this.deps.secrets.tokenKey, accountId, pending.e164, code),
        channel,
        outbox_id: outboxId,
        expires_at: addSeconds(now, codes.CODE_TTL_SECONDS),
        resend_after: addSeconds(now, codes.cooldownSeconds(pending.streak + 1)),
      });
      // Another request resent (or restarted) first: this one is too soon.
      if (!updated) throw resendTooSoon(now, addSeconds(now, codes.cooldownSeconds(pending.streak + 1)));
      await recordAudit(trx, now, { event: 'phone.code_resent', accountId, meta, details: { number: pending.e164, channel, send: updated.sends } });
      return updated;
    });
    return toView(row, notice);
  }

  /** Checks a code; the right one puts the number on the account (if no other live account has it). */
  async verify(accountId: string, input: { code: string }, meta: RequestMeta): Promise<{ number: string; verified: true; verifiedAt: string }> {
    const { db, clock, secrets } = this.deps;
    const typed = codes.normalizeCode(input.code);
    if (!typed) {
      const pending = await q.findPending(db, accountId);
      if (!pending) throw new AppError('no_pending_verification');
      throw new AppError('code_invalid', {
        detail: `Enter the ${codes.CODE_DIGITS}-digit code we sent you.`,
        extra: { attemptsLeft: Math.max(0, codes.MAX_ATTEMPTS - pending.attempts) },
      });
    }
    const row = await q.countAttempt(db, accountId, codes.MAX_ATTEMPTS, clock.now());
    if (!row) throw await this.whyNoAttempt(accountId);
    if (!codes.codeMatches(secrets.tokenKey, row, typed)) {
      const attemptsLeft = codes.MAX_ATTEMPTS - row.attempts;
      throw new AppError('code_invalid', { detail: wrongCodeDetail(attemptsLeft), extra: { attemptsLeft } });
    }

    try {
      const verifiedAt = await this.inTransaction(async (trx, now) => {
        // Used up once: a code replaced meanwhile (resend) no longer counts.
        if (!(await q.finish(trx, row.id, 'verified', now, row.code_hash))) {
          throw new AppError('code_expired', { detail: 'This code was replaced by a newer one. Enter the latest code we sent.' });
        }
        const previous = await q.findVerifiedPhone(trx, accountId);
        await q.saveVerifiedPhone(trx, {
          account_id: accountId,
          e164: row.e164,
          subscriber: subscriberKey(row.e164),
          country: row.country,
          line_type: row.line_type,
          verified_at: now,
        });
        const change = previous ? 'changed' : 'added';
        await recordAudit(trx, now, {
          event: previous ? 'phone.changed' : 'phone.verified',
          accountId,
          meta,
          details: { number: row.e164, previous: previous?.e164 ?? null, channel: row.channel },
        });
        await notifyPhoneChange(this.deps, trx, accountId, now, { change, number: row.e164, previous: previous?.e164 ?? null });
        return now;
      });
      return { number: row.e164, verified: true, verifiedAt: verifiedAt.toISOString() };
    } catch (error) {
      if (!q.HELD_ELSEWHERE.some((index) => isUniqueViolation(error, index))) throw error;
      // Another account verified this number first: this verification can never succeed.
      await q.finish(db, row.id, 'cancelled', clock.now());
      await recordAudit(db, clock.now(), { event: 'phone.in_use_refused', accountId, meta, details: { number: row.e164, at: 'verify' } });
      throw phoneInUse(row.e164);
    }
  }

  /** Refuses (409 last_two_step_method) a removal the two-step rules forbid. */
  async checkRemovable(accountId: string): Promise<void> {
    await this.deps.removalGuard?.(accountId);
  }

  /** Removes the verified number (and any verification in progress). */
  async remove(accountId: string, meta: RequestMeta): Promise<void> {
    await this.deps.removalGuard?.(accountId);
    await this.inTransaction(async (trx, now) => {
      const removed = await q.deleteVerifiedPhone(trx, accountId);
      await q.cancelPending(trx, accountId, now);
      if (!removed) return;
      await recordAudit(trx, now, { event: 'phone.removed', accountId, meta, details: { number: removed.e164 } });
      await notifyPhoneChange(this.deps, trx, accountId, now, { change: 'removed', number: removed.e164, previous: null });
    });
  }

  /** The number and the verification in progress, a late delivery status rechecked (late-delivery.ts). */
  status(accountId: string): Promise<PhoneStatus> {
    return phoneStatus(this.deps.db, this.deps.clock.now(), accountId, this.lateDelivery);
  }

  /** Why no attempt could be counted: nothing pending, out of tries, or expired. */
  private async whyNoAttempt(accountId: string): Promise<AppError> {
    const now = this.deps.clock.now();
    const pending = await q.findPending(this.deps.db, accountId);
    if (!pending) return new AppError('no_pending_verification');
    if (pending.attempts >= codes.MAX_ATTEMPTS) return tooManyAttempts(now, pending);
    return new AppError('code_expired', { detail: 'This code has expired. Ask for a new one.' });
  }

  /** Runs `work` in a transaction, then wakes the outbox so messages leave at once. */
  private async inTransaction<T>(work: (trx: Transaction<DB>, now: Date) => Promise<T>): Promise<T> {
    const result = await this.deps.db.transaction().execute((trx) => work(trx, this.deps.clock.now()));
    this.deps.outbox.wake();
    return result;
  }
}

