import type { Kysely, Transaction } from 'kysely';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds, type Clock } from '../platform/clock.js';
import type { Random } from '../platform/crypto.js';
import type { Db } from '../platform/db/database.js';
import type { AccountRow, DB } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { Secrets } from '../platform/secrets.js';
import { consumeToken, issueToken, peekToken, revokeTokens, tokenLifetimes } from '../platform/tokens.js';
import type { ChallengeView, Caller } from '../challenges/service.js';
import { questionText, type AnswerReset } from '../twostep/methods/security-question.js';

/** What this flow asks of the challenges domain: the live challenge and whose it is. */
export interface ChallengeHolder {
  holder(token: string, caller: Caller): Promise<{ view: ChallengeView; challengeId: string; account: AccountRow }>;
}

/** What it asks of two-step verification: the account's question, and setting a new one. */
export interface SecurityQuestions {
  question(db: Kysely<DB>, accountId: string): Promise<{ id: string; text: string } | null>;
  set(accountId: string, input: { question: string; answer: string }, meta: RequestMeta, via: AnswerReset): Promise<void>;
}

export interface ForgotAnswerDeps {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  publicUrl: string;
  challenges: ChallengeHolder;
  questions: SecurityQuestions;
  accounts: { get(accountId: string): Promise<AccountRow> };
}

const PURPOSE = 'security_answer_reset';
export const LINK_SECONDS = tokenLifetimes[PURPOSE];

/**
 * "Forgot your answer?": from a live sign-in or step-up challenge that lists the security question, a
 * single-use link (60 minutes, only the newest works) goes to the account's confirmed
 * e-mail; through it the member sets a new question and answer. The link neither passes
 * nor resets the challenge: the member answers the new question there, and every wrong
 * guess made before or after still counts against the challenge and the account.
 */
export class ForgotAnswerService {
  constructor(private readonly deps: ForgotAnswerDeps) {}

  /** POST /v1/challenges/{id}/forgot-answer. Returns where the link went (masked by the caller) and until when it works. */
  async request(challengeToken: string, caller: Caller, meta: RequestMeta): Promise<{ expiresAt: Date; email: string }> {
    const { db, clock, limiter, secrets, random, outbox, publicUrl } = this.deps;
    const { view, challengeId, account } = await this.deps.challenges.holder(challengeToken, caller);
    if (!view.methods.some((m) => m.type === 'security_question') || !(await this.deps.questions.question(db, account.id))) {
      throw new AppError('no_security_question');
    }
    // The reset link of a recovery came to this inbox: a second link there would let the
    // inbox alone pass the second step, which is exactly what 2SV is meant to stop.
    if (view.purpose === 'recovery') throw new AppError('answer_reset_needs_other_step');
    if (account.email_verified_at === null) {
      throw new AppError('email_verification_required', { detail: 'We can only send the link to a confirmed e-mail address, and yours is not confirmed. Try another method, or contact support.' });
    }
    // Counted only for a request that would send: each one mails the member's inbox.
    await limiter.consume('forgot_answer_account', account.id);
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      await revokeTokens(trx, account.id, PURPOSE, now);
      const token = await issueToken(trx, { key: secrets.tokenKey, random, now, accountId: account.id, purpose: PURPOSE });
      await outbox.enqueue(trx, {
        channel: 'email',
        to: account.email,
        template: 'security-answer-reset',
        data: { username: account.username, link: `${publicUrl}/recover/security-answer/${encodeURIComponent(token)}`, minutes: LINK_SECONDS / 60 },
      });
      await recordAudit(trx, now, { event: 'security_answer.reset_link_sent', accountId: account.id, meta, details: { challengeId, purpose: view.purpose } });
    });
    outbox.wake();
    return { expiresAt: addSeconds(now, LINK_SECONDS), email: account.email };
  }

  /** What the link opens: the account's current question. Unknown, used and expired links alike: 410 token_invalid. */
  async inspect(token: string): Promise<{ accountId: string; question: { id: string; text: string } }> {
    const { db, secrets, clock } = this.deps;
    const accountId = await peekToken(db, { key: secrets.tokenKey, now: clock.now(), purpose: PURPOSE, token });
    const account = accountId ? await this.deps.accounts.get(accountId).catch(() => undefined) : undefined;
    const question = account && account.status !== 'closed' ? await this.deps.questions.question(db, account.id) : null;
    if (!account || !question) throw new AppError('token_invalid');
    return { accountId: account.id, question };
  }

  /**
   * POST /v1/recovery/security-answer/{token}: the new question and answer, under the
   * answer rules of the settings page. Refused input leaves the link usable; the link is
   * used up in the transaction that changes the answer, so two submits change it once.
   */
  async reset(token: string, input: { question: string; answer: string }, meta: RequestMeta): Promise<{ id: string; text: string }> {
    const { secrets, questions } = this.deps;
    const { accountId } = await this.inspect(token);
    await questions.set(accountId, input, meta, {
      name: 'forgot_answer_link',
      summary: 'Your security question and its answer were reset through the link we e-mailed you.',
      within: async (trx: Transaction<DB>, now: Date) => {
        const used = await consumeToken(trx, { key: secrets.tokenKey, now, purpose: PURPOSE, token });
        // Removed meanwhile from the settings: the link must not add the method back.
        if (used !== accountId || !(await questions.question(trx, accountId))) throw new AppError('token_invalid');
      },
    });
    return { id: input.question, text: questionText(input.question) ?? '' };
  }
}
