import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { currentMember } from '../platform/web/auth.js';
import { cookieName, cookieOptions } from '../platform/web/cookies.js';
import { parseForm } from '../platform/web/form.js';
import { field, handleForm, renderPage } from '../platform/web/pages.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { SECURITY_QUESTIONS } from '../twostep/methods/security-question.js';
import { SecurityQuestionBody } from '../twostep/schemas.js';
import { answerReturn, SENT_PATH } from './ask.js';
import type { ForgotAnswerService } from './service.js';

const TITLE = 'Choose a new security question';
const DONE_PATH = '/recover/security-answer/done';

/** Where to go on: back to the page that asked, or (another browser, no cookie) to sign-in or the security page. */
async function onward(request: FastifyRequest, label: string) {
  const back = answerReturn(request);
  if (back) return { href: back, label };
  return (await currentMember(request)) ? { href: '/account/security', label: 'Go to your security settings' } : { href: '/login', label: 'Go to sign in' };
}

/** /recover/security-answer/…: "we sent you a link", the e-mailed link's form, and the way back. */
export const forgotAnswerPages: FastifyPluginAsync<{ forgotAnswer: ForgotAnswerService }> = async (app, { forgotAnswer }) => {
  const { config } = app.verity;
  const csrf = { preValidation: app.csrfProtection };
  const action = (token: string) => `/recover/security-answer/${encodeURIComponent(token)}`;

  app.get(SENT_PATH, async (request, reply) =>
    renderPage(request, reply, 'message', {
      title: 'Check your e-mail',
      ok: true,
      detail:
        "We sent you a link to choose a new security question and answer. It works once, for 60 minutes. Open it, set the new answer, then come back and answer the new question. Nothing after a few minutes? Check your spam or junk folder, or use another method.",
      next: await onward(request, 'Back to the check'),
    }),
  );

  app.get(DONE_PATH, async (request, reply) => {
    const next = await onward(request, 'Continue');
    reply.clearCookie(cookieName('answerReturn', config.production), cookieOptions(config.production));
    return renderPage(request, reply, 'message', {
      title: 'New answer saved',
      ok: true,
      detail: 'Your new security question and answer are set, and your old answer no longer works. Answer the new question where we asked it to continue.',
      next,
    });
  });

  // A GET only shows the form (mail scanners open links); the link is used by the POST.
  app.get('/recover/security-answer/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    const found = await forgotAnswer.inspect(token).catch(() => null);
    if (!found) return linkInvalid(request, reply);
    return renderPage(request, reply, 'security-answer', { title: TITLE, action: action(token), questions: SECURITY_QUESTIONS, current: found.question, values: { question: found.question.id } });
  });

  app.post('/recover/security-answer/:token', csrf, async (request, reply) => {
    const { token } = request.params as { token: string };
    const found = await forgotAnswer.inspect(token).catch(() => null);
    if (!found) return linkInvalid(request, reply);
    const values = { question: field(request.body, 'question') };
    const form = { template: 'security-answer', title: TITLE, values, extra: { action: action(token), questions: SECURITY_QUESTIONS, current: found.question }, fieldFor: { answer_too_short: 'answer' } as const };
    return handleForm(request, reply, form, async () => {
      await forgotAnswer.reset(token, parseForm(request, SecurityQuestionBody), requestMeta(request));
      return DONE_PATH;
    });
  });
};

/** Unknown, used and expired links look the same. */
async function linkInvalid(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return renderPage(request, reply, 'message', {
    title: 'Link expired or invalid',
    ok: false,
    detail: 'This link is invalid, already used or expired. Only the newest link we sent works. Ask for a new one with "Forgot your answer?" where we ask your security question.',
    next: await onward(request, 'Back to the check'),
  }, 410);
}
