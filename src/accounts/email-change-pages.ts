import type { FastifyPluginAsync } from 'fastify';
import { member, requireMember } from '../platform/web/auth.js';
import { field, handleForm, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';

/** /account/email: change the address; /account/email/confirm: the new address's link. */
export const emailChangePages: FastifyPluginAsync = async (app) => {
  const { accounts } = app.verity;
  const csrf = { preValidation: app.csrfProtection };
  const signedIn = { preHandler: requireMember };
  const form = { template: 'email-change', title: 'Change your e-mail address' };

  app.get('/account/email', signedIn, async (request, reply) => {
    const sent = (request.query as { sent?: unknown }).sent === '1';
    return renderPage(request, reply, form.template, { title: form.title, sent, current: member(request).account.email });
  });

  // A stolen cookie must not move the account to another address: a fresh check first.
  app.post('/account/email', { ...csrf, preHandler: app.verity.stepUp.require }, async (request, reply) => {
    const values = { email: field(request.body, 'email') };
    return handleForm(request, reply, { ...form, values, extra: { current: member(request).account.email }, fieldFor: { email_taken: 'email' } }, async () => {
      await accounts.emailChanges.request(member(request).account.id, values.email, requestMeta(request));
      return '/account/email?sent=1';
    });
  });

  // Opening the link only shows a button: mail scanners follow links too.
  app.get('/account/email/confirm', async (request, reply) => {
    const token = (request.query as { token?: unknown }).token;
    return renderPage(request, reply, 'email-change-confirm', { title: 'Confirm your new e-mail address', token: typeof token === 'string' ? token : '' });
  });

  app.post('/account/email/confirm', csrf, async (request, reply) => {
    try {
      await accounts.emailChanges.confirm(field(request.body, 'token'), requestMeta(request));
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return renderPage(request, reply, 'message', {
        title: appError.code === 'email_taken' ? 'Address already in use' : 'Link expired or invalid',
        ok: false,
        detail: appError.code === 'email_taken' ? appError.detail : 'This link is invalid, already used or expired. Ask for a new one from your account.',
        next: { href: '/account/email', label: 'Change your e-mail address' },
      }, appError.status);
    }
    return renderPage(request, reply, 'message', {
      title: 'E-mail address changed',
      ok: true,
      detail: 'Your account now uses the new address. We told the old address, in case it was not you.',
      next: { href: '/account', label: 'Go to your account' },
    });
  });
};
