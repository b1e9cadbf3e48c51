import type { Kysely } from 'kysely';
import { findAccountById } from '../accounts/queries.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds } from '../platform/clock.js';
import { isUniqueViolation } from '../platform/db/database.js';
import type { DB } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import { wrongCodeDetail } from '../platform/codes.js';
import * as codes from './codes.js';
import * as cq from './claim-queries.js';
import type { SendLimits } from './limits.js';
import { sendCode } from './messages.js';
import { parsePhone } from './parse.js';
import { findHolder } from './queries.js';
import { resendTooSoon } from './refusals.js';
import { checkCountryAllowed, planVerdict } from './screen.js';
import { subscriberKey } from './subscriber.js';
import type { PhoneDeps } from './service.js';

/**
 * A holding account counts as dormant, and an agent may release its number to the person who
 * holds the line now, after this many days without a sign-in or any use of a session.
 */
export const DORMANT_AFTER_DAYS = 180;

/** Opens a support case in the caller's transaction (the support desk's service). */
export type OpenCase = (trx: Kysely<DB>, input: { kind: 'phone_claim'; priority: 'normal'; accountId: string; details: string; source: string }) => Promise<{ id: string }>;

export interface ClaimView {
  id: string;
  phone: string;
  expiresAt: string;
  resendAfter: string;
  attemptsLeft: number;
}

/** What the desk sees of a claim: the holder's id is for agents only, never for the requester. */
export interface ClaimForAgent {
  id: string;
  phone: string;
  status: string;
  requesterId: string;
  holderId: string | null;
  provenAt: string | null;
  finishedAt: string | null;
}

/**
 * "This number is mine now": carriers give old numbers to new people, so a member may meet
 * phone_in_use for the line they hold today. They prove they hold it with a code sent to it
 * (the phone code recipe, bound to the claim), which opens a case; an agent releases the
 * number from a dormant holding account, and the holder is told by e-mail. The requester
 * never learns who holds the number.
 */
export class PhoneClaims {
  constructor(
    private readonly deps: PhoneDeps & { openCase: OpenCase },
    private readonly limits: SendLimits,
  ) {}

  async pending(accountId: string): Promise<ClaimView | null> {
    const row = await cq.findPendingClaim(this.deps.db, accountId);
    return row ? toClaimView(row) : null;
  }

  /** Sends a code to a line verified on another live account; a newer claim replaces an older one. */
  async start(accountId: string, input: { phone: string; country?: string | undefined }, meta: RequestMeta): Promise<ClaimView> {
    const { db, clock, limiter } = this.deps;
    const account = await findAccountById(db, accountId);
    if (!account) throw new AppError('not_found');
    const parsed = parsePhone(input.phone, input.country ?? account.country);
    checkCountryAllowed(parsed, this.deps.allowedCountries);
    const subscriber = subscriberKey(parsed.e164);
    await limiter.consume('phone_start_account', accountId);
    if (meta.ip) await limiter.consume('phone_start_ip', meta.ip);
    const holder = await findHolder(db, subscriber);
    if (holder === accountId) throw new AppError('phone_already_verified');
    if (!holder) throw new AppError('phone_not_in_use');
    const open = await cq.findProvenClaim(db, accountId, subscriber);
    if (open) throw new AppError('claim_open');

    const last = await cq.findPendingClaim(db, accountId);
    const sameNumber = last && last.subscriber === subscriber ? last : undefined;
    const now = clock.now();
    if (sameNumber && sameNumber.resend_after > now) throw resendTooSoon(now, sameNumber.resend_after);
    const { voiceOnly } = planVerdict(parsed);
    await this.limits.consume({ e164: parsed.e164, country: parsed.country, accountId, ip: meta.ip });

    const row = await db.transaction().execute(async (trx) => {
      const previous = await cq.lockPendingClaim(trx, accountId);
      if (previous?.subscriber === subscriber && previous.resend_after > now) throw resendTooSoon(now, previous.resend_after);
      if (previous) await cq.replaceClaim(trx, previous.id, now);
      const sends = previous?.subscriber === subscriber ? previous.sends + 1 : 1;
      const code = codes.newCode(this.deps.random);
      await sendCode(this.deps, trx, parsed.e164, voiceOnly ? 'voice' : 'sms', code);
      const inserted = await cq.insertClaim(trx, {
        account_id: accountId,
        e164: parsed.e164,
        subscriber,
        country: parsed.country,
        code_hash: codes.claimCodeHash(this.deps.secrets.tokenKey, accountId, parsed.e164, code),
        sends,
        sent_at: now,
        expires_at: addSeconds(now, codes.CODE_TTL_SECONDS),
        resend_after: addSeconds(now, codes.cooldownSeconds(sends)),
        case_id: null,
        holder_id: null,
        created_at: now,
        proven_at: null,
        finished_at: null,
      });
      await recordAudit(trx, now, { event: 'phone.claim_started', accountId, meta, details: { number: parsed.e164 } });
      return inserted;
    });
    this.deps.outbox.wake();
    return toClaimView(row);
  }

  /** The right code proves the line and opens a case for an agent. */
  async prove(accountId: string, input: { code: string }, meta: RequestMeta): Promise<{ caseId: string }> {
    const { db, clock, secrets } = this.deps;
    const typed = codes.normalizeCode(input.code);
    if (!typed) {
      const pending = await cq.findPendingClaim(db, accountId);
      if (!pending) throw new AppError('no_pending_verification', { detail: 'Ask for a code to the number first.' });
      throw new AppError('code_invalid', { detail: `Enter the ${codes.CODE_DIGITS}-digit code we sent to the number.`, extra: { attemptsLeft: Math.max(0, codes.MAX_ATTEMPTS - pending.attempts) } });
    }
    const row = await cq.countClaimAttempt(db, accountId, codes.MAX_ATTEMPTS, clock.now());
    if (!row) throw await this.whyNoAttempt(accountId);
    if (!codes.claimCodeMatches(secrets.tokenKey, row, typed)) {
      const attemptsLeft = codes.MAX_ATTEMPTS - row.attempts;
      throw new AppError('code_invalid', { detail: wrongCodeDetail(attemptsLeft), extra: { attemptsLeft } });
    }
    const holder = await findHolder(db, row.subscriber);
    if (!holder || holder === accountId) {
      await cq.finishClaim(db, row.id, 'dismissed', clock.now(), 'pending');
      if (holder === accountId) throw new AppError('phone_already_verified');
      throw new AppError('phone_not_in_use');
    }
    try {
      const caseId = await db.transaction().execute(async (trx) => {
        const now = clock.now();
        if (!(await cq.markProven(trx, row.id, row.code_hash, now, holder))) {
          throw new AppError('code_expired', { detail: 'This code was replaced by a newer one. Enter the latest code we sent.' });
        }
        const opened = await this.deps.openCase(trx, { kind: 'phone_claim', priority: 'normal', accountId, details: `Holds ${row.e164} now, which another account verified.`, source: 'phone_claim' });
        await cq.attachCase(trx, row.id, opened.id);
        // The requester's own history: the number and the case, never who holds it.
        await recordAudit(trx, now, { event: 'phone.claim_proven', accountId, meta, details: { number: row.e164, caseId: opened.id } });
        return opened.id;
      });
      return { caseId };
    } catch (error) {
      if (isUniqueViolation(error, 'phone_claims_proven_key')) throw new AppError('claim_open');
      throw error;
    }
  }

  async forCase(caseId: string): Promise<ClaimForAgent | undefined> {
    const row = await cq.findClaimByCase(this.deps.db, caseId);
    if (!row) return undefined;
    return {
      id: row.id,
      phone: row.e164,
      status: row.status,
      requesterId: row.account_id,
      holderId: row.holder_id,
      provenAt: row.proven_at?.toISOString() ?? null,
      finishedAt: row.finished_at?.toISOString() ?? null,
    };
  }

  /**
   * An agent frees the number from the holding account, once: `dormant` (asked inside the
   * transaction, after the claim is locked) must say the holder has not been active lately.
   * The holder is told by e-mail, and so is the requester (who may now verify the number).
   */
  async release(caseId: string, agentId: string, meta: RequestMeta, dormant: (trx: Kysely<DB>, holderId: string) => Promise<boolean>): Promise<void> {
    const { db, clock, outbox, publicUrl } = this.deps;
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const claim = await cq.lockClaimByCase(trx, caseId);
      if (!claim) throw new AppError('wrong_case_kind', { detail: 'This case is not a claim of a phone number.' });
      if (claim.status !== 'proven' || !claim.holder_id) throw new AppError('already_decided', { detail: 'This claim has already been decided.' });
      if (!(await dormant(trx, claim.holder_id))) {
        throw new AppError('holder_active', { detail: `The account holding this number signed in within the last ${DORMANT_AFTER_DAYS} days, so the number stays with it.` });
      }
      const released = await cq.releaseHeldLine(trx, claim.holder_id, claim.subscriber);
      await cq.finishClaim(trx, claim.id, 'released', now, 'proven');
      const holder = await findAccountById(trx, claim.holder_id);
      if (released && holder) {
        await recordAudit(trx, now, { event: 'phone.released', accountId: holder.id, actorId: agentId, meta, details: { number: released.e164, reason: 'recycled_number', caseId } });
        await outbox.enqueue(trx, { channel: 'email', to: holder.email, template: 'phone-released', data: { username: holder.username, number: released.e164, days: DORMANT_AFTER_DAYS, link: `${publicUrl}/account/phone` } });
      }
      const requester = await findAccountById(trx, claim.account_id);
      if (requester) {
        await recordAudit(trx, now, { event: 'phone.claim_granted', accountId: requester.id, actorId: agentId, meta, details: { number: claim.e164, caseId } });
        await outbox.enqueue(trx, { channel: 'email', to: requester.email, template: 'phone-claim-granted', data: { username: requester.username, number: claim.e164, link: `${publicUrl}/account/phone` } });
      }
    });
    outbox.wake();
  }

  /** A claim's case closed without a release: the member may file a new claim later. */
  async dismiss(caseId: string): Promise<void> {
    const claim = await cq.findClaimByCase(this.deps.db, caseId);
    if (claim) await cq.finishClaim(this.deps.db, claim.id, 'dismissed', this.deps.clock.now(), 'proven');
  }

  private async whyNoAttempt(accountId: string): Promise<AppError> {
    const pending = await cq.findPendingClaim(this.deps.db, accountId);
    if (!pending) return new AppError('no_pending_verification', { detail: 'Ask for a code to the number first.' });
    if (pending.attempts >= codes.MAX_ATTEMPTS) {
      return new AppError('too_many_attempts', { detail: 'Too many wrong tries: this code no longer works. Ask for a new code.', extra: { attemptsLeft: 0 } });
    }
    return new AppError('code_expired', { detail: 'This code has expired. Ask for a new one.' });
  }
}

function toClaimView(row: cq.PhoneClaimRow): ClaimView {
  return {
    id: row.id,
    phone: row.e164,
    expiresAt: row.expires_at.toISOString(),
    resendAfter: row.resend_after.toISOString(),
    attemptsLeft: Math.max(0, codes.MAX_ATTEMPTS - row.attempts),
  };
}
