import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { methodChoice, methodInput } from '../challenges/pages.js';
import { CHALLENGE_TTL_SECONDS, type ChallengeView } from '../challenges/service.js';
import { cookieName, cookieOptions } from '../platform/web/cookies.js';
import { field, handleForm, renderPage } from '../platform/web/pages.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { askForNewAnswer } from '../forgot-answer/ask.js';
import type { RecoveryService } from './service.js';

const TITLE = 'Confirm it is you';

/**
 * /recover/password/{token}/check: with 2SV on, a reset link leads here first. The recovery
 * challenge (tied to the link) is passed with any two-step method, "try another method"
 * included; its id stays in an HttpOnly cookie. Passed, the link shows the new-password form.
 */
export const recoveryChallengePages: FastifyPluginAsync<{ recovery: RecoveryService }> = async (app, { recovery }) => {
  const { config, challenges } = app.verity;
  const cookie = cookieName('recovery', config.production);
  const csrf = { preValidation: app.csrfProtection };
  const caller = { sessionId: null };
  const held = (request: FastifyRequest) => request.cookies?.[cookie] ?? '';
  const base = (token: string) => `/recover/password/${encodeURIComponent(token)}`;

  /** The challenge this browser holds for the link, else a new one (null once none is needed). */
  async function current(request: FastifyRequest, reply: FastifyReply, token: string): Promise<ChallengeView | null> {
    const kept = held(request) ? await challenges.describe(held(request), caller).catch(() => null) : null;
    if (kept?.purpose === 'recovery') return kept;
    const state = await recovery.inspectReset(token);
    if (!state.twoStepRequired || !state.challenge) return null;
    const view = state.challenge as unknown as ChallengeView;
    reply.setCookie(cookie, view.id, cookieOptions(config.production, { maxAge: CHALLENGE_TTL_SECONDS }));
    return view;
  }

  function step(view: ChallengeView, method?: string) {
    const usable = view.methods.filter((m) => m.type !== 'passkey');
    return { ...methodChoice(usable.length ? usable : view.methods, method), passkeyNote: usable.length < view.methods.length };
  }

  const page = (request: FastifyRequest, reply: FastifyReply, token: string, data: Record<string, unknown>, status = 200) =>
    renderPage(request, reply, 'recover-check', { title: TITLE, token, action: `${base(token)}/check`, values: {}, ...data }, status);

  app.get('/recover/password/:token/check', async (request, reply) => {
    const { token } = request.params as { token: string };
    const query = request.query as { method?: unknown; sent?: unknown };
    const view = await current(request, reply, token);
    if (!view) return reply.redirect(base(token), 303);
    const sent = query.sent === '1';
    return page(request, reply, token, { ...step(view, typeof query.method === 'string' ? query.method : undefined), codeSent: sent, flash: sent ? 'We sent you a code.' : undefined });
  });

  app.post('/recover/password/:token/check', csrf, async (request, reply) => {
    const { token } = request.params as { token: string };
    const view = await current(request, reply, token);
    if (!view) return reply.redirect(base(token), 303);
    const s = step(view, field(request.body, 'method'));
    const form = { template: 'recover-check', title: TITLE, values: {}, extra: { ...s, token, action: `${base(token)}/check`, codeSent: true }, fieldFor: { code_invalid: 'code', code_expired: 'code', answer_invalid: 'answer' } as const };
    return handleForm(request, reply, form, async () => {
      await challenges.verify(view.id, methodInput(request.body, s.chosen.type), caller, requestMeta(request));
      reply.clearCookie(cookie, cookieOptions(config.production));
      return base(token);
    });
  });

  app.post('/recover/password/:token/check/forgot-answer', csrf, async (request, reply) => {
    const { token } = request.params as { token: string };
    const view = await current(request, reply, token);
    if (!view) return reply.redirect(base(token), 303);
    const form = { template: 'recover-check', title: TITLE, values: {}, extra: { ...step(view, 'security_question'), token, action: `${base(token)}/check` } };
    return askForNewAnswer(request, reply, { challengeId: view.id, caller, returnTo: `${base(token)}/check?method=security_question`, form });
  });

  app.post('/recover/password/:token/check/send', csrf, async (request, reply) => {
    const { token } = request.params as { token: string };
    const view = await current(request, reply, token);
    if (!view) return reply.redirect(base(token), 303);
    const s = step(view, field(request.body, 'method'));
    const form = { template: 'recover-check', title: TITLE, values: {}, extra: { ...s, token, action: `${base(token)}/check`, codeSent: false } };
    return handleForm(request, reply, form, async () => {
      await challenges.send(view.id, s.chosen.type, caller, requestMeta(request));
      return `${base(token)}/check?method=${encodeURIComponent(s.chosen.type)}&sent=1`;
    });
  });
};
