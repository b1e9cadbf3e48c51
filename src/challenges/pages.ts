import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.js';
import { cookieName, cookieOptions } from '../platform/web/cookies.js';
import { setDeviceCookie, setSessionCookie } from '../platform/web/auth.js';
import { field, handleForm, renderPage, safeNext } from '../platform/web/pages.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { askForNewAnswer } from '../forgot-answer/ask.js';
import type { RequestMeta } from '../platform/audit.js';
import { CHALLENGE_TTL_SECONDS, type Caller, type ChallengeService, type ChallengeView } from './service.js';

export const LABELS: Record<string, string> = {
  password: 'Your password',
  email: 'A code by e-mail',
  sms: 'A code by text message',
  voice: 'A code by phone call',
  totp: 'Your authenticator app',
  security_question: 'Your security question',
  backup_code: 'A backup code',
  passkey: 'A passkey or security key',
};

/** What the method form (partials/challenge-method.eta) posts, for ChallengeService.verify. */
export function methodInput(body: unknown, method: string) {
  const input = { method, code: field(body, 'code'), answer: field(body, 'answer'), password: field(body, 'password') };
  return method === 'passkey' ? { ...input, response: assertion(field(body, 'response')) } : input;
}

/** The passkey form's `response`: the browser's assertion as JSON text (public/passkey-challenge.js). */
function assertion(text: string): unknown {
  if (!text || text.length > 64 * 1024) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The chosen method with what its form needs: for a passkey, request options bound to this
 * challenge, which the page's script hands to the browser (a fresh set each time the page is
 * shown; an unanswered set simply expires).
 */
export async function methodStep(challenges: ChallengeService, view: ChallengeView, caller: Caller, meta: RequestMeta, method?: string) {
  const choice = methodChoice(view.methods, method);
  if (choice.chosen.type !== 'passkey') return choice;
  const sent = await challenges.send(view.id, 'passkey', caller, meta);
  return { ...choice, passkeyOptions: 'options' in sent ? JSON.stringify(sent.options) : undefined };
}

/** The chosen method (the asked one if offered, else the first) and the others, with labels. */
export function methodChoice(methods: ChallengeView['methods'], method?: string) {
  const chosen = methods.find((m) => m.type === method) ?? methods[0]!;
  const others = methods.filter((m) => m !== chosen).map((m) => ({ ...m, label: LABELS[m.type] ?? m.type }));
  return { chosen: { ...chosen, label: LABELS[chosen.type] ?? chosen.type, sends: ['email', 'sms', 'voice'].includes(chosen.type) }, others };
}

function challengeCookie(request: FastifyRequest): string {
  return request.cookies?.[cookieName('challenge', request.server.verity.config.production)] ?? '';
}

function verifyUrl(next: string, extra = ''): string {
  return `/login/verify?next=${encodeURIComponent(next)}${extra}`;
}

/**
 * After a right password that needs a second step: keeps the challenge in an HttpOnly
 * cookie (never in a URL), sends the code at once when e-mail is the only way, and returns
 * where the member goes next.
 */
export async function startLoginChallenge(request: FastifyRequest, reply: FastifyReply, challenge: ChallengeView, next: string): Promise<string> {
  const { config, challenges } = request.server.verity;
  reply.setCookie(cookieName('challenge', config.production), challenge.id, cookieOptions(config.production, { maxAge: CHALLENGE_TTL_SECONDS }));
  const only = challenge.methods.length === 1 ? challenge.methods[0] : undefined;
  if (only && ['email', 'sms', 'voice'].includes(only.type)) await challenges.send(challenge.id, only.type, { sessionId: null }, requestMeta(request));
  return verifyUrl(next);
}

/** The sign-in's second step (/login/verify): enter the code, ask for another, try another method. */
export const challengePages: FastifyPluginAsync<{ challenges: ChallengeService }> = async (app, { challenges }) => {
  const { config } = app.verity;
  const csrf = { preValidation: app.csrfProtection };

  async function stepData(request: FastifyRequest, method?: string) {
    const view = await challenges.describe(challengeCookie(request), { sessionId: null });
    return methodStep(challenges, view, { sessionId: null }, requestMeta(request), method);
  }

  /** A dead challenge sends the member back to the password, saying why. */
  async function expiredPage(request: FastifyRequest, reply: FastifyReply, next: string) {
    reply.clearCookie(cookieName('challenge', config.production), cookieOptions(config.production));
    return renderPage(request, reply, 'login', { title: 'Sign in', values: { next }, formError: new AppError('challenge_expired').detail }, 410);
  }

  app.get('/login/verify', async (request, reply) => {
    const query = request.query as { next?: unknown; method?: unknown; sent?: unknown };
    const next = safeNext(query.next);
    try {
      const step = await stepData(request, typeof query.method === 'string' ? query.method : undefined);
      const flash = query.sent === '1' ? 'We sent a new code.' : undefined;
      // A code is on its way only if asked for, or sent at sign-in because it was the only way.
      const codeSent = query.sent === '1' || (step.chosen.sends && step.others.length === 0);
      return renderPage(request, reply, 'login-verify', { title: 'Confirm it is you', values: { next }, ...step, flash, codeSent });
    } catch (error) {
      if (error instanceof AppError && error.code === 'challenge_expired') return expiredPage(request, reply, next);
      throw error;
    }
  });

  app.post('/login/verify', csrf, async (request, reply) => {
    const next = safeNext(field(request.body, 'next'));
    const method = field(request.body, 'method');
    const step = await stepData(request, method).catch(() => null);
    if (!step) return expiredPage(request, reply, next);
    const form = { template: 'login-verify', title: 'Confirm it is you', values: { next }, extra: step, fieldFor: { code_invalid: 'code', code_expired: 'code', too_many_attempts: 'code' } as const };
    return handleForm(request, reply, form, async () => {
      const passed = await challenges.verify(challengeCookie(request), methodInput(request.body, step.chosen.type), { sessionId: null }, requestMeta(request));
      if (passed.purpose !== 'login') throw new AppError('challenge_expired');
      reply.clearCookie(cookieName('challenge', config.production), cookieOptions(config.production));
      setSessionCookie(reply, passed.issued.token, passed.issued.expiresAt, config.production);
      setDeviceCookie(reply, passed.issued.device.cookie, config.production);
      return next;
    });
  });

  // "Forgot your answer?": mails a link to a new question and answer, then leads back here.
  app.post('/login/verify/forgot-answer', csrf, async (request, reply) => {
    const next = safeNext(field(request.body, 'next'));
    const step = await stepData(request, 'security_question').catch(() => null);
    if (!step) return expiredPage(request, reply, next);
    const form = { template: 'login-verify', title: 'Confirm it is you', values: { next }, extra: step };
    return askForNewAnswer(request, reply, { challengeId: challengeCookie(request), caller: { sessionId: null }, returnTo: verifyUrl(next, '&method=security_question'), form });
  });

  app.post('/login/verify/send', csrf, async (request, reply) => {
    const next = safeNext(field(request.body, 'next'));
    const method = field(request.body, 'method');
    const step = await stepData(request, method).catch(() => null);
    if (!step) return expiredPage(request, reply, next);
    const form = { template: 'login-verify', title: 'Confirm it is you', values: { next }, extra: step };
    return handleForm(request, reply, form, async () => {
      await challenges.send(challengeCookie(request), step.chosen.type, { sessionId: null }, requestMeta(request));
      return verifyUrl(next, `&method=${encodeURIComponent(step.chosen.type)}&sent=1`);
    });
  });
};
