import type { RequestMeta } from '../platform/audit.js';
import { addSeconds } from '../platform/clock.js';
import * as codes from '../platform/codes.js';
import type { AccountRow, Channel, ChallengeRow } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { ChallengeMethod, MethodContext, MethodHint, Occasion, Verdict } from './methods.js';
import * as q from './queries.js';

/**
 * A method that sends a one-time code by a message (e-mail; SMS and calls plug in the same
 * way), on the shared code recipe (src/platform/codes.ts). One code per method per challenge;
 * a resend replaces it, with a growing cooldown.
 */
export interface SentCodeOptions {
  type: 'email' | 'sms' | 'voice';
  channel: Channel;
  /** templates/messages/<template>, given {code, minutes, username, host}. */
  template: string;
  /** Where the code goes; null when the account has no such destination. */
  destination(ctx: MethodContext, account: AccountRow): Promise<string | null>;
  offered(ctx: MethodContext, account: AccountRow, occasion: Occasion): Promise<boolean>;
  hint(ctx: MethodContext, account: AccountRow): Promise<MethodHint>;
  /** Caps of the channel itself (e.g. the phone's anti-pumping limits), counted before a code goes out. */
  beforeSend?(ctx: MethodContext, account: AccountRow, destination: string, meta: RequestMeta): Promise<void>;
}

const PURPOSE = 'challenge-code';

export function sentCodeMethod(options: SentCodeOptions): ChallengeMethod {
  const { type } = options;
  const binding = (challenge: ChallengeRow) => [challenge.id, type];
  return {
    type,
    offered: options.offered,
    hint: options.hint,

    async send(ctx, challenge, account, meta) {
      const to = await options.destination(ctx, account);
      if (!to) throw new AppError('invalid_request', { detail: 'This method cannot be used for your account.', extra: { errors: [{ path: '/method', message: 'not available' }] } });
      const now = ctx.clock.now();
      const existing = await q.findCode(ctx.db, challenge.id, type);
      if (existing && existing.sends >= codes.MAX_SENDS) {
        throw new AppError('rate_limited', { detail: `We have sent ${codes.MAX_SENDS} codes already. Start signing in again, or try another method.`, retryAfter: 60 });
      }
      if (existing && existing.resend_after > now) throw codes.resendTooSoon(now, existing.resend_after);
      await ctx.limiter.consume('challenge_send_account', account.id);
      await options.beforeSend?.(ctx, account, to, meta);

      const code = codes.newCode(ctx.random);
      const streak = (existing?.sends ?? 0) + 1;
      const fields = {
        code_hash: codes.codeHash(ctx.secrets.tokenKey, PURPOSE, binding(challenge), code),
        // A code never outlives its challenge.
        expires_at: new Date(Math.min(addSeconds(now, codes.CODE_TTL_SECONDS).getTime(), challenge.expires_at.getTime())),
        resend_after: addSeconds(now, codes.cooldownSeconds(streak)),
      };
      const saved = await ctx.db.transaction().execute(async (trx) => {
        const row = existing
          ? await q.replaceCode(trx, { challengeId: challenge.id, method: type }, now, codes.MAX_SENDS, fields)
          : await q.insertCode(trx, { challenge_id: challenge.id, method: type, sent_at: now, ...fields });
        // Another request sent a code first: this one is too soon.
        if (!row) throw codes.resendTooSoon(now, fields.resend_after);
        await ctx.outbox.enqueue(trx, {
          channel: options.channel,
          to,
          template: options.template,
          data: { code, minutes: codes.CODE_TTL_SECONDS / 60, username: account.username, host: new URL(ctx.publicUrl).host },
        });
        return row;
      });
      ctx.outbox.wake();
      return { resendAfter: saved.resend_after };
    },

    async verify(ctx, challenge, _account, input): Promise<Verdict> {
      const now = ctx.clock.now();
      const typed = codes.normalizeCode(input.code ?? '');
      if (!typed) {
        const row = await q.findCode(ctx.db, challenge.id, type);
        const error = new AppError('code_invalid', {
          detail: `Enter the ${codes.CODE_DIGITS}-digit code we sent you.`,
          extra: { attemptsLeft: row ? Math.max(0, codes.MAX_ATTEMPTS - row.attempts) : codes.MAX_ATTEMPTS },
        });
        return { passed: false, error, counted: false };
      }
      const row = await q.countCodeAttempt(ctx.db, challenge.id, type, codes.MAX_ATTEMPTS, now);
      if (!row) return { passed: false, error: await whyNoAttempt(ctx, challenge, type, now), counted: false };
      if (!codes.codeMatches(ctx.secrets.tokenKey, row.code_hash, PURPOSE, binding(challenge), typed)) {
        const attemptsLeft = codes.MAX_ATTEMPTS - row.attempts;
        return { passed: false, error: new AppError('code_invalid', { detail: codes.wrongCodeDetail(attemptsLeft), extra: { attemptsLeft } }), counted: true };
      }
      return { passed: true, consume: (trx) => q.useCode(trx, row, now) };
    },
  };
}

/** Why no try could be counted: no code sent, out of tries, used or expired. */
async function whyNoAttempt(ctx: MethodContext, challenge: ChallengeRow, type: string, now: Date): Promise<AppError> {
  const row = await q.findCode(ctx.db, challenge.id, type);
  if (!row) return new AppError('code_invalid', { detail: 'Ask for a code first.', extra: { attemptsLeft: codes.MAX_ATTEMPTS } });
  if (row.attempts >= codes.MAX_ATTEMPTS) {
    return new AppError('too_many_attempts', {
      detail: 'Too many wrong tries: this code no longer works. Ask for a new code.',
      retryAfter: Math.max(1, Math.ceil((row.resend_after.getTime() - now.getTime()) / 1000)),
      extra: { attemptsLeft: 0, resendAfter: row.resend_after.toISOString() },
    });
  }
  return new AppError('code_expired', { detail: 'This code has expired. Ask for a new one.' });
}
