import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { addSeconds } from '../platform/clock.js';
import { AppError, invalid } from '../platform/errors.js';
import { parseForm } from '../platform/web/form.js';
import { field, formErrors, handleForm, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { exactUtc, timeAgo } from '../platform/time-words.js';
import type { SecurityResetOptions } from './routes.js';
import { ResetRequestBody } from './schemas.js';
import { checkResetRequest, NEW_LINK_DAYS } from './service.js';

const TITLE = 'Reset your security information';
const FIELDS = ['login', 'fullName', 'contactEmail', 'details', 'oldPhoneDigits', 'country'] as const;

/** /recover/security-reset…: the request form, the requester's status page, the owner's cancel link. */
export const securityResetPages: FastifyPluginAsync<SecurityResetOptions> = async (app, { securityResets, deps }) => {
  const csrf = { preValidation: app.csrfProtection };
  const waitHours = deps.waitHours;

  app.get('/recover/security-reset', async (request, reply) => {
    const login = (request.query as { login?: unknown }).login;
    return renderPage(request, reply, 'security-reset', { title: TITLE, waitHours, values: { login: typeof login === 'string' ? login.slice(0, 320) : '' } });
  });

  app.post('/recover/security-reset', csrf, async (request, reply) => {
    const values = Object.fromEntries(FIELDS.map((f) => [f, field(request.body, f)]));
    return handleForm(request, reply, { template: 'security-reset', title: TITLE, values, extra: { waitHours } }, async () => {
      // A blank optional field means "not given", as the API's absent field does. Every
      // field's problem is shown at once: the schema's and the service's checks together.
      const given = { oldPhoneDigits: values.oldPhoneDigits?.trim() || undefined, country: values.country || undefined };
      const own = checkResetRequest({ login: '', fullName: '', contactEmail: '', details: '', ...values, ...given });
      let input;
      try {
        input = parseForm(request, ResetRequestBody, given);
      } catch (error) {
        const schema = error instanceof AppError ? error.fieldErrors : [];
        throw invalid([...schema, ...own.filter((e) => !schema.some((s) => s.path === e.path))]);
      }
      await securityResets.request(input, requestMeta(request));
      return '/recover/security-reset/sent';
    });
  });

  app.get('/recover/security-reset/sent', async (request, reply) =>
    renderPage(request, reply, 'message', {
      title: 'Request received',
      ok: true,
      detail: 'We e-mailed a link to your contact address: follow your request there, and add information if our support team asks for it. We tell you by e-mail when it is decided. Nothing in your inbox after a few minutes? Check the spam folder.',
      next: { href: '/help', label: 'Back to the help center' },
    }),
  );

  async function showStatus(request: FastifyRequest, reply: FastifyReply, requestId: string, key: string, extra: Record<string, unknown> = {}, status = 200) {
    const view = await securityResets.status(requestId, key);
    const now = deps.clock.now();
    const at = (iso: string) => timeAgo(new Date(iso), now);
    return renderPage(request, reply, 'security-reset-status', {
      title: 'Your security reset request',
      view: { ...view, messages: view.messages.map((m) => ({ ...m, when: at(m.at) })) },
      key,
      created: at(view.createdAt),
      effective: view.effectiveAt ? exactUtc(new Date(view.effectiveAt)) : '',
      canAskLink: view.status === 'completed' && view.effectiveAt !== undefined && addSeconds(new Date(view.effectiveAt), NEW_LINK_DAYS * 86400) > now,
      ...extra,
    }, status);
  }

  const done: Record<string, string> = { info: 'Thank you. Your request is back with our support team.', link: 'We e-mailed you a new link to choose a password.' };

  app.get('/recover/security-reset/:requestId', async (request, reply) => {
    const { requestId } = request.params as { requestId: string };
    const query = request.query as { key?: unknown; done?: unknown };
    const flash = typeof query.done === 'string' ? done[query.done] : undefined;
    return showStatus(request, reply, requestId, typeof query.key === 'string' ? query.key : '', { flash });
  });

  app.post('/recover/security-reset/:requestId/info', csrf, async (request, reply) => {
    const { requestId } = request.params as { requestId: string };
    const key = field(request.body, 'key');
    const details = field(request.body, 'details');
    try {
      await securityResets.addInfo(requestId, key, details.slice(0, 5000), requestMeta(request));
      return reply.redirect(`/recover/security-reset/${requestId}?key=${encodeURIComponent(key)}&done=info`, 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500 || appError.code === 'not_found') throw error;
      return showStatus(request, reply, requestId, key, { values: { details }, ...formErrors(appError) }, appError.status);
    }
  });

  app.post('/recover/security-reset/:requestId/password-link', csrf, async (request, reply) => {
    const { requestId } = request.params as { requestId: string };
    const key = field(request.body, 'key');
    try {
      await securityResets.newPasswordLink(requestId, key);
      return reply.redirect(`/recover/security-reset/${requestId}?key=${encodeURIComponent(key)}&done=link`, 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500 || appError.code === 'not_found') throw error;
      if (appError.retryAfter !== undefined) reply.header('Retry-After', String(appError.retryAfter));
      return showStatus(request, reply, requestId, key, formErrors(appError), appError.status);
    }
  });

  // A GET only shows the question: mail scanners open links, and must not cancel anything.
  app.get('/recover/security-reset/cancel/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    return renderPage(request, reply, 'security-reset-cancel', { title: 'Cancel the security reset', token });
  });

  app.post('/recover/security-reset/cancel/:token', csrf, async (request, reply) => {
    const { token } = request.params as { token: string };
    try {
      await securityResets.cancelByLink(token, requestMeta(request));
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'token_invalid') throw error;
      return renderPage(request, reply, 'message', {
        title: 'Link expired or invalid',
        ok: false,
        detail: 'This link no longer works: the reset was already cancelled, or it has taken effect. If your two-step methods were removed and it was not you, contact support at once.',
        next: { href: '/support/contact', label: 'Contact support' },
      }, 410);
    }
    return renderPage(request, reply, 'message', {
      title: 'Reset cancelled',
      ok: true,
      detail: 'Nothing on your account changes. Someone may know a lot about you: sign in and review your security settings, and keep a second two-step method such as backup codes.',
      next: { href: '/account/security', label: 'Review your security settings' },
    });
  });
};
