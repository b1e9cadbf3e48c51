import type { RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import type { Random } from '../platform/crypto.js';
import type { Db } from '../platform/db/database.js';
import type { Kysely } from 'kysely';
import type { AccountRow, ChallengePurpose, ChallengeRow, DB } from '../platform/db/schema.js';
import type { AppError } from '../platform/errors.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { Secrets } from '../platform/secrets.js';

/**
 * How a challenge can be passed. Each method plugs in here and knows nothing of the flows
 * (sign-in, step-up, recovery) that use it; the challenge service counts every guess against
 * the challenge and the account before a method compares anything.
 */
export const METHOD_TYPES = ['sms', 'voice', 'email', 'totp', 'security_question', 'backup_code', 'passkey', 'password'] as const;
export type MethodType = (typeof METHOD_TYPES)[number];

/** What a member sees to recognise a method: the masked e-mail, the phone's last digits, the question. */
export interface MethodHint {
  hint?: string;
  question?: string;
}

/** What every method may use. */
export interface MethodContext {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  publicUrl: string;
}

/** Why a challenge is asked for, which some methods care about (e-mail is offered on a sign-in under attack). */
export interface Occasion {
  purpose: ChallengePurpose;
  reason: string;
}

/** What the member sent to `POST /v1/challenges/{id}/verify`, beside `method`. */
export interface VerifyInput {
  code?: string | undefined;
  answer?: string | undefined;
  /** The account's password, for a step-up of an account without 2SV. */
  password?: string | undefined;
  response?: unknown;
}

export type Verdict =
  | {
      passed: true;
      /**
       * Uses up what passed (a sent code), in the transaction that marks the challenge passed
       * and issues its outcome, so a crash between them cannot leave a used code and no
       * session. False when it was used meanwhile (the try is then refused).
       */
      consume?: (trx: Kysely<DB>) => Promise<boolean>;
      /** The refusal when `consume` finds it used meanwhile (by default: a newer code replaced it). */
      spent?: AppError;
    }
  /** A wrong guess: it stays counted against the challenge and the account. */
  | { passed: false; error: AppError; counted: true }
  /** Refused before anything was compared (no code sent yet, code out of tries): no guess is counted. */
  | { passed: false; error: AppError; counted: false };

/** A code went out (`resendAfter`), or a passkey's request options to hand to the browser. */
export type SendResult = { resendAfter: Date } | { options: unknown };

export interface ChallengeMethod {
  readonly type: MethodType;
  /** Whether this account can use the method at this challenge (set up and confirmed). */
  offered(ctx: MethodContext, account: AccountRow, occasion: Occasion): Promise<boolean>;
  hint(ctx: MethodContext, account: AccountRow): Promise<MethodHint>;
  /** Sends a code (or passkey options) for the challenge; absent for what a member just types. */
  send?(ctx: MethodContext, challenge: ChallengeRow, account: AccountRow, meta: RequestMeta): Promise<SendResult>;
  /**
   * Compares what the member gave. Anything single-use (a code, a backup code, a TOTP step)
   * is used up here by a conditional update, so two racing requests cannot both pass.
   */
  verify(ctx: MethodContext, challenge: ChallengeRow, account: AccountRow, input: VerifyInput): Promise<Verdict>;
}

/** "j•••e@example.com": enough to recognise one's own address, not enough to learn a stranger's. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  const local = email.slice(0, at);
  const shown = local.length <= 2 ? local.slice(0, 1) : `${local.slice(0, 1)}•••${local.slice(-1)}`;
  return `${shown}${local.length <= 2 ? '•••' : ''}${email.slice(at)}`;
}
