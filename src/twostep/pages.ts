import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TwoStepType } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import { member, requireMember } from '../platform/web/auth.js';
import { parseForm } from '../platform/web/form.js';
import { field, formErrors, handleForm, ignoreNotFound, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { guardTwoStepChanges } from './guard.js';
import { SECURITY_QUESTIONS } from './methods/security-question.js';
import type { TotpSetup } from './methods/totp.js';
import { SecurityQuestionBody, TotpConfirmBody } from './schemas.js';

const TYPES: readonly TwoStepType[] = ['sms', 'voice', 'email', 'totp', 'security_question', 'backup_code', 'passkey'];
const DONE: Record<string, string> = {
  sms: 'Codes by text message are on.',
  voice: 'Codes by voice call are on.',
  email: 'Codes by e-mail are on.',
  totp: 'Your authenticator app is set up.',
  security_question: 'Your security question is saved.',
  removed: 'The method is removed.',
  passkey: 'The passkey is added.',
  passkey_removed: 'The passkey is removed.',
  confirmed: 'The method is confirmed and can be used again.',
};

/**
 * The two-step part of /account/security, without JavaScript: each form posts here and comes
 * back to the security page (or to a page of its own where something is shown once: the
 * authenticator's QR code, the backup codes). Adding a passkey is the one step that needs the
 * browser's WebAuthn API (public/two-step.js over the JSON API).
 */
export const twoStepPages: FastifyPluginAsync = async (app) => {
  const { twoStep } = app.verity;
  const csrf = { preValidation: app.csrfProtection };
  const signedIn = { preHandler: requireMember };
  const form = { ...csrf, ...signedIn };
  const me = (request: FastifyRequest) => member(request).account.id;
  const back = (done: string) => `/account/security?twostep=${done}#two-step`;
  // As the API: with 2SV on, each form post (and the question page, before anything is typed)
  // first goes to /account/step-up, which comes back to the page that asked.
  guardTwoStepChanges(app, ['/account/two-step/security-question']);

  /** A refusal of a one-button form: its sentence, and the way back. */
  async function refused(request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> {
    const appError = toAppError(error);
    if (appError.status >= 500) throw error;
    return renderPage(request, reply, 'message', { title: appError.title, detail: appError.detail, next: { href: '/account/security#two-step', label: 'Back to security' } }, appError.status);
  }

  for (const method of ['sms', 'voice', 'email'] as const) {
    app.post(`/account/two-step/${method}`, form, async (request, reply) => {
      try {
        if (method === 'email') await twoStep.emailCodes.enable(me(request), requestMeta(request));
        else await twoStep.phoneCodes.enable(me(request), method, requestMeta(request));
      } catch (error) {
        return refused(request, reply, error);
      }
      return reply.redirect(back(method), 303);
    });
  }

  app.post('/account/two-step/totp', form, async (request, reply) => totpPage(request, reply, await twoStep.totp.begin(me(request))));

  app.post('/account/two-step/totp/confirm', form, async (request, reply) => {
    const setupId = field(request.body, 'setupId');
    try {
      await twoStep.totp.confirm(me(request), parseForm(request, TotpConfirmBody), requestMeta(request));
      return reply.redirect(back('totp'), 303);
    } catch (error) {
      const appError = toAppError(error);
      // A wrong code, or one the API's schema refuses, is said beside the code field.
      const beside = appError.code === 'code_invalid' ? appError.detail : formErrors(appError).errors.code;
      const setup = beside === undefined ? null : await twoStep.totp.resume(me(request), setupId);
      if (!setup || beside === undefined) return refused(request, reply, error);
      return totpPage(request, reply, setup, { code: beside }, appError.status);
    }
  });

  function totpPage(request: FastifyRequest, reply: FastifyReply, setup: TotpSetup, errors: Record<string, string> = {}, status = 200) {
    return renderPage(request, reply, 'two-step-totp', { title: 'Set up an authenticator app', setup, secretGroups: setup.secret.match(/.{1,4}/g)?.join(' '), errors }, status);
  }

  app.post('/account/two-step/backup-codes', form, async (request, reply) => {
    const codes = await twoStep.backupCodes.generate(me(request), requestMeta(request));
    const file = `Verity backup codes for ${member(request).account.username}\nEach code works once.\n\n${codes.join('\n')}\n`;
    return renderPage(request, reply, 'two-step-codes', { title: 'Your backup codes', codes, download: `data:text/plain;charset=utf-8,${encodeURIComponent(file)}` });
  });

  app.get('/account/two-step/security-question', signedIn, async (request, reply) => {
    const current = (await twoStep.overview(me(request))).securityQuestion;
    return renderPage(request, reply, 'two-step-question', { title: 'Security question', questions: SECURITY_QUESTIONS, values: { question: current?.id ?? '' } });
  });

  app.post('/account/two-step/security-question', form, async (request, reply) => {
    const values = { question: field(request.body, 'question') };
    const page = { template: 'two-step-question', title: 'Security question', values, extra: { questions: SECURITY_QUESTIONS }, fieldFor: { answer_too_short: 'answer' } as const };
    return handleForm(request, reply, page, async () => {
      await twoStep.securityQuestion.set(me(request), parseForm(request, SecurityQuestionBody), requestMeta(request));
      return back('security_question');
    });
  });

  app.post('/account/two-step/remove/:type', form, async (request, reply) => {
    const { type } = request.params as { type: string };
    if (!TYPES.includes(type as TwoStepType)) throw new AppError('not_found');
    // Removing twice (a double submit) finds it gone: that is what was asked.
    await twoStep.remove(me(request), type as TwoStepType, requestMeta(request)).catch(ignoreNotFound);
    return reply.redirect(back('removed'), 303);
  });

  // Confirming a suspended method needs a fresh step-up: without one, the error handler sends the
  // browser to /account/step-up, which comes back to the security page to press Confirm again.
  app.post('/account/two-step/suspended/:type/confirm', { ...csrf, preHandler: app.verity.stepUp.require }, async (request, reply) => {
    const { type } = request.params as { type: string };
    if (!TYPES.includes(type as TwoStepType)) throw new AppError('not_found');
    // Confirmed already (a double submit): what was asked is done.
    await twoStep.confirmSuspended(me(request), type as TwoStepType, { kind: 'member', meta: requestMeta(request) }).catch(ignoreNotFound);
    return reply.redirect(back('confirmed'), 303);
  });

  app.post('/account/two-step/passkeys/:id/remove', form, async (request, reply) => {
    const { id } = request.params as { id: string };
    await twoStep.passkeys.remove(me(request), id, requestMeta(request)).catch(ignoreNotFound);
    return reply.redirect(back('passkey_removed'), 303);
  });
};

/** What /account/security shows of two-step verification (templates/pages/partials/two-step.eta). */
export async function twoStepSection(request: FastifyRequest): Promise<Record<string, unknown>> {
  const { twoStep, phone } = request.server.verity;
  const { account } = member(request);
  const done = (request.query as { twostep?: unknown }).twostep;
  return {
    twoStep: await twoStep.overview(account.id),
    twoStepPhone: await phone.hasVerifiedPhone(account.id),
    twoStepEmail: account.email_verified_at !== null,
    twoStepDone: typeof done === 'string' ? DONE[done] : undefined,
  };
}
