import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../challenges/service.js';
import { cookieName, cookieOptions } from '../platform/web/cookies.js';
import { handleForm, safeNext } from '../platform/web/pages.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { tokenLifetimes } from '../platform/tokens.js';

export const SENT_PATH = '/recover/security-answer/sent';

/**
 * The "Forgot your answer?" button of a page that asks the security question (sign-in,
 * step-up, recovery): mails the link, remembers where to come back in an HttpOnly cookie
 * (a same-site path the page built, checked again when read), and shows "we sent you a
 * link". A refusal re-renders the asking page with the reason.
 */
export async function askForNewAnswer(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { challengeId: string; caller: Caller; returnTo: string; form: Parameters<typeof handleForm>[2] },
): Promise<FastifyReply> {
  const { forgotAnswer, config } = request.server.verity;
  return handleForm(request, reply, input.form, async () => {
    await forgotAnswer.request(input.challengeId, input.caller, requestMeta(request));
    const back = safeNext(input.returnTo, '');
    if (back) reply.setCookie(cookieName('answerReturn', config.production), back, cookieOptions(config.production, { maxAge: tokenLifetimes.security_answer_reset }));
    return SENT_PATH;
  });
}

/** Where the flow leads back: the asking page's path if this browser asked, else nothing. */
export function answerReturn(request: FastifyRequest): string | null {
  const value = request.cookies?.[cookieName('answerReturn', request.server.verity.config.production)];
  return safeNext(value, '') || null;
}
