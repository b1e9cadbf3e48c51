import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { member, requireMember } from '../platform/web/auth.js';
import { cookieName, cookieOptions } from '../platform/web/cookies.js';
import { field, handleForm, renderPage, safeNext } from '../platform/web/pages.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { askForNewAnswer } from '../forgot-answer/ask.js';
import { methodInput, methodStep } from './pages.js';
import { CHALLENGE_TTL_SECONDS, type ChallengeService, type ChallengeView } from './service.js';
import type { StepUp } from './step-up.js';

const TITLE = 'Confirm it is you';
/** Where a step-up returns when the page gave no same-site `next`. */
export const STEP_UP_FALLBACK = '/account/security';

function stepUpUrl(next: string, extra = ''): string {
  return `/account/step-up?next=${encodeURIComponent(next)}${extra}`;
}

/**
 * /account/step-up: the page form of POST /v1/me/step-up. The challenge id is a bearer secret,
 * so it lives in an HttpOnly cookie (never in a URL), and the challenge answers only this session.
 */
export const stepUpPages: FastifyPluginAsync<{ challenges: ChallengeService; stepUp: StepUp }> = async (app, { challenges, stepUp }) => {
  const { config } = app.verity;
  const cookie = cookieName('stepUp', config.production);
  const csrf = { preValidation: app.csrfProtection, preHandler: requireMember };
  const caller = (request: FastifyRequest) => ({ sessionId: member(request).session.id });
  const token = (request: FastifyRequest) => request.cookies?.[cookie] ?? '';

  /** The open challenge of this session, or null when there is none (or it expired, or passed). */
  async function current(request: FastifyRequest): Promise<ChallengeView | null> {
    return token(request) ? challenges.describe(token(request), caller(request)).catch(() => null) : null;
  }

  /** The chosen method's form; a passkey's carries request options for the browser (it needs JavaScript). */
  function step(request: FastifyRequest, view: ChallengeView, method?: string) {
    return methodStep(challenges, view, caller(request), requestMeta(request), method);
  }

  app.get('/account/step-up', { preHandler: requireMember }, async (request, reply) => {
    const query = request.query as { next?: unknown; method?: unknown; sent?: unknown };
    const next = safeNext(query.next, STEP_UP_FALLBACK);
    let view = await current(request);
    if (!view) {
      view = await stepUp.challenge(request);
      reply.setCookie(cookie, view.id, cookieOptions(config.production, { maxAge: CHALLENGE_TTL_SECONDS }));
    }
    const sent = query.sent === '1';
    return renderPage(request, reply, 'step-up', {
      title: TITLE,
      values: { next },
      ...(await step(request, view, typeof query.method === 'string' ? query.method : undefined)),
      codeSent: sent,
      flash: sent ? 'We sent you a code.' : undefined,
    });
  });

  /** A missing or dead challenge: back to the page, which opens a new one. */
  async function withStep(request: FastifyRequest, reply: FastifyReply, run: (next: string, s: Awaited<ReturnType<typeof step>>) => Promise<FastifyReply>) {
    const next = safeNext(field(request.body, 'next'), STEP_UP_FALLBACK);
    const view = await current(request);
    if (!view) return reply.redirect(stepUpUrl(next), 303);
    return run(next, await step(request, view, field(request.body, 'method')));
  }

  app.post('/account/step-up', csrf, async (request, reply) => withStep(request, reply, async (next, s) => {
    const form = { template: 'step-up', title: TITLE, values: { next }, extra: { ...s, codeSent: true }, fieldFor: { code_invalid: 'code', code_expired: 'code', answer_invalid: s.chosen.type === 'password' ? 'password' : 'answer' } as const };
    return handleForm(request, reply, form, async () => {
      await challenges.verify(token(request), methodInput(request.body, s.chosen.type), caller(request), requestMeta(request));
      reply.clearCookie(cookie, cookieOptions(config.production));
      return next;
    });
  }));

  app.post('/account/step-up/forgot-answer', csrf, async (request, reply) => withStep(request, reply, async (next, s) => {
    const form = { template: 'step-up', title: TITLE, values: { next }, extra: s };
    return askForNewAnswer(request, reply, { challengeId: token(request), caller: caller(request), returnTo: stepUpUrl(next, '&method=security_question'), form });
  }));

  app.post('/account/step-up/send', csrf, async (request, reply) => withStep(request, reply, async (next, s) => {
    return handleForm(request, reply, { template: 'step-up', title: TITLE, values: { next }, extra: { ...s, codeSent: false } }, async () => {
      await challenges.send(token(request), s.chosen.type, caller(request), requestMeta(request));
      return stepUpUrl(next, `&method=${encodeURIComponent(s.chosen.type)}&sent=1`);
    });
  }));
};
