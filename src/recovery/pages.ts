import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { clearSessionCookie, currentMember } from '../platform/web/auth.js';
import { cookieName, cookieOptions } from '../platform/web/cookies.js';
import { CHALLENGE_TTL_SECONDS } from '../challenges/service.js';
import { field, handleForm, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { checkEmail } from '../accounts/rules.js';
import { invalid, type FieldError } from '../platform/errors.js';
import type { RecoveryService } from './service.js';

const SUPPORT = { href: '/support/contact', label: 'Contact support' };

/** /recover/password…, /recover/not-me/…, /support/compromised: the recovery flows as pages. */
export const recoveryPages: FastifyPluginAsync<{ recovery: RecoveryService }> = async (app, { recovery }) => {
  const { config } = app.verity;
  const csrf = { preValidation: app.csrfProtection };

  app.get('/recover/password', async (request, reply) => renderPage(request, reply, 'recover-password', { title: 'Forgot your password?' }));

  app.post('/recover/password', csrf, async (request, reply) => {
    const values = { login: field(request.body, 'login') };
    return handleForm(request, reply, { template: 'recover-password', title: 'Forgot your password?', values }, async () => {
      if (!values.login.trim()) throw invalid([{ path: '/login', message: 'Enter your username or e-mail address.' }]);
      await recovery.requestPasswordReset(values.login, requestMeta(request));
      return '/recover/password/sent';
    });
  });

  app.get('/recover/password/sent', async (request, reply) =>
    renderPage(request, reply, 'recover-sent', { title: 'Check your e-mail' }),
  );

  app.get('/recover/no-email', async (request, reply) =>
    renderPage(request, reply, 'message', {
      title: "Can't get into your e-mail?",
      ok: false,
      detail:
        'A reset link can only go to the e-mail address on your account, so we cannot reset the password without it: anyone could claim to be you. Our support team can check who you are and help you back in.',
      next: SUPPORT,
    }),
  );

  app.get('/recover/password/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    try {
      const state = await recovery.inspectReset(token);
      if (state.twoStepRequired && state.challenge) {
        // The two-step check comes first, on its own page; the challenge id stays in a cookie.
        reply.setCookie(cookieName('recovery', config.production), String(state.challenge.id), cookieOptions(config.production, { maxAge: CHALLENGE_TTL_SECONDS }));
        return reply.redirect(`/recover/password/${encodeURIComponent(token)}/check`, 303);
      }
      return renderPage(request, reply, 'recover-reset', { title: 'Choose a new password', token, twoStep: state, then: thenOf(request) });
    } catch (error) {
      return linkProblem(request, reply, error);
    }
  });

  app.post('/recover/password/:token', csrf, async (request, reply) => {
    const { token } = request.params as { token: string };
    const then = thenOf(request);
    return handleForm(request, reply, { template: 'recover-reset', title: 'Choose a new password', values: {}, extra: { token, twoStep: { twoStepRequired: false }, then } }, async () => {
      await recovery.resetPassword(token, field(request.body, 'newPassword'), requestMeta(request));
      clearSessionCookie(reply, config.production);
      return then ? `/recover/password/done?then=${then}` : '/recover/password/done';
    }).catch((error: unknown) => linkProblem(request, reply, error));
  });

  app.get('/recover/password/done', async (request, reply) =>
    renderPage(request, reply, 'message', thenOf(request) === 'two-step' ? {
      title: 'Password set',
      ok: true,
      detail: 'Your new password is set. Sign in with it, then set up two-step verification again, so a stolen password alone cannot open your account.',
      next: { href: '/login?next=%2Faccount%2Fsecurity', label: 'Sign in and set up two-step verification' },
    } : {
      title: 'Password changed',
      ok: true,
      detail: 'Your new password is set, and every session on your account has ended. Sign in with the new password.',
      next: { href: '/login', label: 'Sign in' },
    }),
  );

  // A GET only shows the question: mail scanners open links, and must not lock anyone out.
  app.get('/recover/not-me/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    return renderPage(request, reply, 'not-me', { title: "This wasn't me", token });
  });

  app.post('/recover/not-me/:token', csrf, async (request, reply) => {
    const { token } = request.params as { token: string };
    try {
      await recovery.notMe(token, requestMeta(request));
    } catch (error) {
      return linkProblem(request, reply, error);
    }
    clearSessionCookie(reply, config.production);
    return renderPage(request, reply, 'message', {
      title: 'Your account is locked',
      ok: true,
      detail:
        'Nobody can use your account now: every session has ended, and sign-in needs a new password. Reset your password through the link we send to your e-mail to get back in.',
      next: { href: '/recover/password', label: 'Reset your password' },
    });
  });

  app.get('/support/compromised', async (request, reply) => {
    const signedIn = await currentMember(request);
    return renderPage(request, reply, 'compromised', { title: 'Report a compromised account', signedIn: !!signedIn });
  });

  app.post('/support/compromised/lock', csrf, async (request, reply) => {
    const found = await currentMember(request);
    if (!found) return reply.redirect('/support/compromised', 303);
    await recovery.reportCompromised(found.account.id, field(request.body, 'details').slice(0, 5000), requestMeta(request));
    clearSessionCookie(reply, config.production);
    return reply.redirect('/support/compromised/locked', 303);
  });

  app.get('/support/compromised/locked', async (request, reply) =>
    renderPage(request, reply, 'message', {
      title: 'Your account is locked',
      ok: true,
      detail: 'Every session has ended, this one too, and our support team has been told. Reset your password through the e-mail link to get back in.',
      next: { href: '/recover/password', label: 'Reset your password' },
    }),
  );

  app.post('/support/compromised', csrf, async (request, reply) => {
    const values = { login: field(request.body, 'login'), contactEmail: field(request.body, 'contactEmail'), details: field(request.body, 'details') };
    return handleForm(request, reply, { template: 'compromised', title: 'Report a compromised account', values, extra: { signedIn: false } }, async () => {
      const errors: FieldError[] = [];
      checkEmail(values.contactEmail.trim(), errors, '/contactEmail');
      if (!values.details.trim()) errors.push({ path: '/details', message: 'Tell us what happened.' });
      if (errors.length) throw invalid(errors);
      const { ticketId } = await recovery.reportCompromisedAnonymously({ ...values, details: values.details.slice(0, 5000) }, requestMeta(request));
      return `/support/compromised/sent?ticket=${encodeURIComponent(ticketId)}`;
    });
  });

  app.get('/support/compromised/sent', async (request, reply) =>
    renderPage(request, reply, 'message', {
      title: 'Report received',
      ok: true,
      detail: 'Thank you. Our support team will look into it and answer at the contact address you gave. If it is your own account and you can still sign in, lock it from this page while signed in.',
      next: { href: '/help', label: 'Back to the help center' },
    }),
  );
};

/**
 * Where the flow leads after the new password: `two-step` (a security reset removed the
 * methods) ends on two-step setup. Only known values, so nothing else rides along.
 */
function thenOf(request: FastifyRequest): 'two-step' | undefined {
  return (request.query as { then?: unknown }).then === 'two-step' ? 'two-step' : undefined;
}

/** Used, expired and unknown links look the same. */
async function linkProblem(request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> {
  const appError = toAppError(error);
  if (appError.status >= 500) throw error;
  if (appError.code !== 'token_invalid') throw error;
  return renderPage(request, reply, 'message', {
    title: 'Link expired or invalid',
    ok: false,
    detail: 'This link is invalid, already used or expired. Only the newest link we sent works.',
    next: { href: '/recover/password', label: 'Ask for a new link' },
  }, 410);
}
