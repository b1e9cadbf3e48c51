import type { ChallengeMethod, Verdict } from '../challenges/methods.js';
import { sentCodeMethod } from '../challenges/sent-code.js';
import type { TwoStepType } from '../platform/db/schema.js';
import { AppError, type ErrorCode } from '../platform/errors.js';
import { findVerifiedPhone } from '../phone/queries.js';
import type { SendTarget } from '../phone/limits.js';
import type { TwoStepService } from './service.js';

/** The phone's anti-pumping caps (PhoneService.consumeSendCaps). */
export interface PhoneSendCaps {
  consumeSendCaps(target: SendTarget): Promise<void>;
}

const passed: Verdict = { passed: true };

/** A wrong guess: counted against the challenge and the account. */
function wrong(code: ErrorCode, detail: string): Verdict {
  return { passed: false, error: new AppError(code, { detail }), counted: true };
}

/** Nothing was compared (an empty or malformed entry): no guess is spent. */
function unusable(code: ErrorCode, detail: string): Verdict {
  return { passed: false, error: new AppError(code, { detail }), counted: false };
}

/**
 * Two-step verification's methods, plugged into the challenge mechanism (src/challenges):
 * each is offered where the account has turned it on, and its verify function is the
 * method's own (TOTP steps, backup codes and passkey ceremonies are used up there by
 * conditional updates). The challenge counts every guess before any of these compares.
 */
export function twoStepChallengeMethods(twoStep: TwoStepService, phone: PhoneSendCaps): ChallengeMethod[] {
  const offered = (type: TwoStepType) => (_ctx: unknown, account: { id: string }) => twoStep.usable(account.id, type);
  const hint = (type: TwoStepType) => (_ctx: unknown, account: Parameters<TwoStepService['hint']>[0]) => twoStep.hint(account, type);

  const totp: ChallengeMethod = {
    type: 'totp',
    offered: offered('totp'),
    hint: hint('totp'),
    async verify(_ctx, _challenge, account, input) {
      const code = (input.code ?? '').replace(/[\s-]/g, '');
      if (!/^\d{6}$/.test(code)) return unusable('code_invalid', 'Enter the 6-digit code your authenticator app shows.');
      if (await twoStep.totp.verify(account.id, code)) return passed;
      return wrong('code_invalid', 'That code is not right, or it was used already. Enter the code your app shows now.');
    },
  };

  const backupCode: ChallengeMethod = {
    type: 'backup_code',
    offered: offered('backup_code'),
    hint: hint('backup_code'),
    async verify(_ctx, _challenge, account, input) {
      const code = input.code?.trim();
      if (!code) return unusable('code_invalid', 'Enter one of your backup codes.');
      const refused = 'That backup code is not right, or it was used already.';
      if (!(await twoStep.backupCodes.isUnused(account.id, code))) return wrong('code_invalid', refused);
      // Used up in the transaction that passes the challenge; of two racing uses one wins there.
      return { passed: true, consume: (trx) => twoStep.backupCodes.use(account.id, code, trx), spent: new AppError('code_invalid', { detail: refused }) };
    },
  };

  const securityQuestion: ChallengeMethod = {
    type: 'security_question',
    offered: offered('security_question'),
    hint: hint('security_question'),
    async verify(_ctx, _challenge, account, input) {
      if (!input.answer?.trim()) return unusable('answer_invalid', 'Enter the answer to your security question.');
      if (await twoStep.securityQuestion.check(account.id, input.answer)) return passed;
      return wrong('answer_invalid', 'That answer is not right.');
    },
  };

  const passkey: ChallengeMethod = {
    type: 'passkey',
    offered: offered('passkey'),
    hint: hint('passkey'),
    // The ceremony is bound to the challenge: an assertion made for one challenge passes no other.
    send: async (_ctx, challenge, account) => ({ options: await twoStep.passkeys.authenticationOptions(account.id, challenge.id) }),
    async verify(_ctx, challenge, account, input) {
      if (input.response === undefined || input.response === null) return unusable('passkey_invalid', 'Use your passkey when your browser asks.');
      if (await twoStep.passkeys.verify(account.id, challenge.id, input.response)) return passed;
      return wrong('passkey_invalid', 'That passkey could not be checked. Ask for a new passkey prompt and try again.');
    },
  };

  // Codes by text or call: the challenge's code recipe, to the verified phone, under the phone's send caps.
  const byPhone = (type: 'sms' | 'voice') =>
    sentCodeMethod({
      type,
      channel: type,
      template: 'challenge-code',
      destination: async (ctx, account) => (await findVerifiedPhone(ctx.db, account.id))?.e164 ?? null,
      offered: offered(type),
      hint: hint(type),
      beforeSend: async (ctx, account, e164, meta) => {
        const number = await findVerifiedPhone(ctx.db, account.id);
        await phone.consumeSendCaps({ e164, country: number?.country ?? null, accountId: account.id, ip: meta.ip });
      },
    });

  return [totp, byPhone('sms'), byPhone('voice'), securityQuestion, backupCode, passkey];
}
