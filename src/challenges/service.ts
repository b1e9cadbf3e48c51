import type { Kysely } from 'kysely';
import { findAccountById } from '../accounts/queries.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds, secondsUntil } from '../platform/clock.js';
import { randomToken, sha256Hex } from '../platform/crypto.js';
import type { AccountRow, ChallengePurpose, ChallengeRow, DB } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { Hit } from '../platform/ratelimit.js';
import type { ChallengeMethod, MethodContext, MethodType, SendResult, VerifyInput } from './methods.js';
import * as q from './queries.js';

export const CHALLENGE_TTL_SECONDS = 10 * 60;
/** How long a passed step-up keeps its session elevated. */
export const STEP_UP_SECONDS = 10 * 60;

export interface ChallengeView {
  id: string;
  purpose: ChallengePurpose;
  methods: Array<{ type: MethodType; hint?: string; question?: string }>;
  expiresAt: string;
}

/** What passing a challenge gives, by purpose. */
export type Passed =
  | { purpose: 'login'; method: MethodType; account: AccountRow; issued: { token: string; expiresAt: Date; session: { id: string }; device: { cookie: string } } }
  | { purpose: 'step_up'; method: MethodType; account: AccountRow; elevatedUntil: Date }
  | { purpose: 'recovery'; method: MethodType; account: AccountRow };

/** The part of the sessions service a passed challenge needs (sessions/service.ts). */
export interface SessionIssuer {
  create(trx: Kysely<DB>, accountId: string, meta: RequestMeta): Promise<{ token: string; expiresAt: Date; session: { id: string }; device: { cookie: string } }>;
  elevate(trx: Kysely<DB>, sessionId: string, until: Date): Promise<void>;
}

/** Who is asking: a step-up challenge answers only the session it belongs to. */
export interface Caller {
  sessionId: string | null;
}

export interface ChallengeDeps extends MethodContext {
  methods: readonly ChallengeMethod[];
  sessions: SessionIssuer;
  /** Runs in the transaction of a sign-in that passed a second step (a pending security reset is cancelled there). */
  afterSecondStepSignIn?: (trx: Kysely<DB>, accountId: string, meta: RequestMeta) => Promise<void>;
}

/**
 * One mechanism for every second step: sign-in with 2SV (or under attack), step-up, recovery.
 * The id is a bearer secret (only its hash is kept); every guess is counted against the
 * challenge and the account before a method compares it, so neither switching methods nor
 * opening new challenges buys more guesses; a challenge passes once.
 */
export class ChallengeService {
  constructor(private readonly deps: ChallengeDeps) {}

  /** The plugged-in method of a type (app.ts lists them; two-step verification adds its own). */
  private method(type: string): ChallengeMethod | undefined {
    return this.deps.methods.find((m) => m.type === type);
  }

  async open(
    input: { purpose: ChallengePurpose; account: AccountRow; reason: string; sessionId?: string | null },
    meta: RequestMeta,
    db: Kysely<DB> = this.deps.db,
  ): Promise<ChallengeView> {
    const { clock } = this.deps;
    const occasion = { purpose: input.purpose, reason: input.reason };
    const offered: MethodType[] = [];
    for (const m of this.deps.methods) if (await m.offered(this.deps, input.account, occasion)) offered.push(m.type);
    if (offered.length === 0) {
      // 2SV is on, but nothing it lists can be used now (the last backup code is spent, say):
      // no second step can be asked for, and a password alone must not stand in for one.
      await recordAudit(db, clock.now(), { event: 'challenge.no_method', accountId: input.account.id, meta, details: { purpose: input.purpose, reason: input.reason } });
      throw noUsableMethod();
    }
    const token = randomToken(this.deps.random);
    const now = clock.now();
    const row = await q.insertChallenge(db, {
      token_hash: sha256Hex(token),
      account_id: input.account.id,
      session_id: input.sessionId ?? null,
      purpose: input.purpose,
      methods: offered,
      reason: input.reason,
      created_at: now,
      expires_at: addSeconds(now, CHALLENGE_TTL_SECONDS),
      passed_at: null,
      passed_method: null,
    });
    await recordAudit(db, now, { event: 'challenge.opened', accountId: input.account.id, meta, details: { challengeId: row.id, purpose: input.purpose, reason: input.reason, methods: offered } });
    return this.view(token, row, input.account);
  }

  /** Whether a challenge opened for this reason has passed (a recovery challenge tied to a reset link). */
  hasPassed(accountId: string, purpose: ChallengePurpose, reason: string): Promise<boolean> {
    return q.hasPassed(this.deps.db, accountId, purpose, reason);
  }

  /** The challenge as its holder sees it (the login page's second step). */
  async describe(token: string, caller: Caller): Promise<ChallengeView> {
    const { challenge, account } = await this.find(token, caller);
    return this.view(token, challenge, account);
  }

  /** A live challenge with its account, for what sits beside a method ("Forgot your answer?" mails the account). */
  async holder(token: string, caller: Caller): Promise<{ view: ChallengeView; challengeId: string; account: AccountRow }> {
    const { challenge, account } = await this.find(token, caller);
    return { view: await this.view(token, challenge, account), challengeId: challenge.id, account };
  }

  async send(token: string, type: string, caller: Caller, meta: RequestMeta): Promise<SendResult> {
    const { challenge, account, method } = await this.withMethod(token, type, caller);
    if (!method.send) throw badMethod('This method sends nothing: enter what it asks for.');
    const result = await method.send(this.deps, challenge, account, meta);
    await recordAudit(this.deps.db, this.deps.clock.now(), { event: 'challenge.sent', accountId: account.id, meta, details: { challengeId: challenge.id, method: type } });
    return result;
  }

  async verify(token: string, input: VerifyInput & { method: string }, caller: Caller, meta: RequestMeta): Promise<Passed> {
    const { db, clock, limiter } = this.deps;
    const { challenge, account, method } = await this.withMethod(token, input.method, caller);
    // Counted before anything is compared, and kept unless nothing was (or the try passed).
    const holds = [await limiter.hit('challenge_failures', challenge.id), await limiter.hit('challenge_account_failures', account.id)];
    const refund = () => Promise.all(holds.map((h) => limiter.refund(h)));
    const over = holds.filter((h) => h.exceeded);
    if (over.length > 0) throw tooManyAttempts(clock.now(), over);

    const verdict = await method.verify(this.deps, challenge, account, input).catch(async (error: unknown) => {
      await refund();
      throw error;
    });
    if (!verdict.passed) {
      if (!verdict.counted) {
        await refund();
        throw verdict.error;
      }
      await recordAudit(db, clock.now(), { event: 'challenge.failed', accountId: account.id, meta, details: { challengeId: challenge.id, method: method.type } });
      throw withCaps(verdict.error, holds);
    }
    await refund();
    // A lock ends through the reset, and with 2SV on the reset needs this very challenge.
    if (account.status === 'locked' && challenge.purpose !== 'recovery') throw new AppError('account_locked', { detail: 'This account is locked for your protection. To get back in, reset your password: ask for a link under \u201cForgot password?\u201d and follow the one we e-mail you. If you can\u2019t reach that e-mail, contact support.' });

    const passed = await db.transaction().execute(async (trx) => {
      const now = clock.now();
      if (verdict.consume && !(await verdict.consume(trx))) {
        throw verdict.spent ?? new AppError('code_expired', { detail: 'This code was replaced by a newer one. Enter the latest code we sent.' });
      }
      if (!(await q.markPassed(trx, challenge.id, method.type, now))) throw expired();
      await recordAudit(trx, now, { event: 'challenge.passed', accountId: account.id, meta, details: { challengeId: challenge.id, purpose: challenge.purpose, method: method.type } });
      return this.outcome(trx, challenge, account, method.type, meta, now);
    });
    this.deps.outbox.wake();
    return passed;
  }

  /** What a passed challenge does, by purpose, in the transaction that marks it passed. */
  private async outcome(trx: Kysely<DB>, challenge: ChallengeRow, account: AccountRow, method: MethodType, meta: RequestMeta, now: Date): Promise<Passed> {
    switch (challenge.purpose) {
      case 'login': {
        const issued = await this.deps.sessions.create(trx, account.id, meta);
        await this.deps.afterSecondStepSignIn?.(trx, account.id, meta);
        await recordAudit(trx, now, { event: 'signin.succeeded', accountId: account.id, meta, details: { sessionId: issued.session.id, method, challengeId: challenge.id } });
        return { purpose: 'login', method, account, issued };
      }
      case 'step_up': {
        const elevatedUntil = addSeconds(now, STEP_UP_SECONDS);
        await this.deps.sessions.elevate(trx, challenge.session_id!, elevatedUntil);
        return { purpose: 'step_up', method, account, elevatedUntil };
      }
      case 'recovery':
        return { purpose: 'recovery', method, account };
    }
  }

  private async find(token: string, caller: Caller): Promise<{ challenge: ChallengeRow; account: AccountRow }> {
    if (!token || token.length > 100) throw expired();
    const challenge = await q.findOpenChallenge(this.deps.db, sha256Hex(token), this.deps.clock.now());
    // Another session's step-up is as good as no challenge at all.
    if (!challenge || (challenge.session_id !== null && challenge.session_id !== caller.sessionId)) throw expired();
    const account = await findAccountById(this.deps.db, challenge.account_id);
    if (!account || account.status === 'closed') throw expired();
    return { challenge, account };
  }

  private async withMethod(token: string, type: string, caller: Caller) {
    const found = await this.find(token, caller);
    const method = found.challenge.methods.includes(type) ? this.method(type) : undefined;
    if (!method) throw badMethod(`This challenge can be passed with: ${found.challenge.methods.join(', ')}.`);
    return { ...found, method };
  }

  private async view(token: string, challenge: ChallengeRow, account: AccountRow): Promise<ChallengeView> {
    const methods: ChallengeView['methods'] = [];
    for (const type of challenge.methods) {
      const method = this.method(type);
      if (method) methods.push({ type: method.type, ...(await method.hint(this.deps, account)) });
    }
    return { id: token, purpose: challenge.purpose, methods, expiresAt: challenge.expires_at.toISOString() };
  }
}

/** Where a member with no usable method can go: support checks who they are (see docs/RULES.md). */
// With no method left, a person checks who you are: the security reset (reviewed, then a waiting period) or a ticket.
export const NO_METHOD_HELP = [
  { rel: 'security_reset', href: '/recover/security-reset', title: 'Reset your security information' },
  { rel: 'contact_support', href: '/support/contact', title: 'Contact support' },
] as const;

function noUsableMethod(): AppError {
  return new AppError('no_usable_method', { extra: { recovery: NO_METHOD_HELP.map((link) => ({ ...link })) } });
}

function expired(): AppError {
  return new AppError('challenge_expired');
}

function badMethod(detail: string): AppError {
  return new AppError('invalid_request', { detail, extra: { errors: [{ path: '/method', message: detail }] } });
}

/** 429 too_many_attempts once the challenge's or the account's guesses are used up. */
function tooManyAttempts(now: Date, over: Hit[]): AppError {
  const until = new Date(Math.max(...over.map((h) => h.resetAt.getTime())));
  return new AppError('too_many_attempts', {
    detail: 'Too many wrong tries. Wait a while, then sign in again.',
    retryAfter: Math.max(1, secondsUntil(now, until)),
    extra: { attemptsLeft: 0 },
  });
}

/** A wrong guess's answer, with the fewest tries left among the method's, the challenge's and the account's. */
function withCaps(error: AppError, holds: Hit[]): AppError {
  const own = typeof error.extra.attemptsLeft === 'number' ? error.extra.attemptsLeft : Infinity;
  const left = Math.max(0, Math.min(own, ...holds.map((h) => h.limit - h.count)));
  if (left >= own) return error;
  const detail = left > 0 ? `That is not right. You have ${left} ${left === 1 ? 'try' : 'tries'} left.` : 'That is not right, and that was the last try. Wait a while, then sign in again.';
  return new AppError(error.code, { detail, extra: { ...error.extra, attemptsLeft: left } });
}
