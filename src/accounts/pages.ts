import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { clearSessionCookie, currentMember, requireMember, member, setDeviceCookie, setSessionCookie } from '../platform/web/auth.js';
import { formInput, parseForm, validateForm } from '../platform/web/form.js';
import { handleForm, renderPage } from '../platform/web/pages.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { toAppError } from '../platform/web/problems.js';
import { actionCards, type ActionCard } from '../gate/view.js';
import { sessionCards } from '../sessions/view.js';
import { CloseBody, ProfileBody, SignUpBody } from './schemas.js';

/** /signup, /verify-email, /account and /account/close: the same services as the API. */
export const accountPages: FastifyPluginAsync = async (app) => {
  const { accounts, config, gate } = app.verity;
  const csrf = { preValidation: app.csrfProtection };
  const signedIn = { preHandler: requireMember };
  // With 2SV on, the password alone does not close the account (as POST /v1/me/close).
  const passwordOrStepUp = { preHandler: app.verity.stepUp.requireIf((request) => app.verity.twoStep.isEnabled(member(request).account.id)) };

  app.get('/signup', async (request, reply) => {
    if (await currentMember(request)) return reply.redirect('/account', 303);
    return renderPage(request, reply, 'signup', { title: 'Create your account', values: { roles: ['freelancer'] } });
  });

  app.post('/signup', csrf, async (request, reply) => {
    const input = formInput(request.body, SignUpBody);
    const { password: _password, ...kept } = input;
    return handleForm(request, reply, { template: 'signup', title: 'Create your account', values: kept, fieldFor: { email_taken: 'email', username_taken: 'username' } }, async () => {
      const { issued } = await accounts.signUp(validateForm(request, SignUpBody, input), requestMeta(request));
      setSessionCookie(reply, issued.token, issued.expiresAt, config.production);
      setDeviceCookie(reply, issued.device.cookie, config.production);
      return '/account';
    });
  });

  app.get('/verify-email', async (request, reply) => {
    const token = (request.query as { token?: unknown }).token;
    try {
      if (typeof token !== 'string') throw new Error('missing token');
      await accounts.verifyEmail(token, requestMeta(request));
      return renderPage(request, reply, 'message', {
        title: 'E-mail verified',
        ok: true,
        detail: 'Thank you: your e-mail address is verified.',
        next: { href: '/account', label: 'Go to your account' },
      });
    } catch (error) {
      const appError = toAppError(error);
      return renderPage(request, reply, 'message', {
        title: 'Link expired or invalid',
        ok: false,
        detail: appError.code === 'internal_error' ? 'This link is invalid, already used or expired.' : appError.detail,
        next: { href: '/account', label: 'Ask for a new link from your account' },
      }, appError.status >= 500 ? 410 : appError.status);
    }
  });

  app.get('/account', signedIn, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    return renderPage(request, reply, 'account', {
      title: 'Your account',
      values: accountValues(request),
      ...(await canDo(request)),
      saved: query.saved === '1',
      sent: query.sent === '1',
    });
  });

  app.post('/account', { ...csrf, ...signedIn }, async (request, reply) => {
    const values = formInput(request.body, ProfileBody);
    return handleForm(request, reply, { template: 'account', title: 'Your account', values, extra: await canDo(request) }, async () => {
      await accounts.updateProfile(member(request).account.id, validateForm(request, ProfileBody, values), requestMeta(request));
      return '/account?saved=1';
    });
  });

  app.post('/account/email-verification', { ...csrf, ...signedIn }, async (request, reply) => {
    const { account } = member(request);
    return handleForm(request, reply, { template: 'account', title: 'Your account', values: accountValues(request), extra: await canDo(request) }, async () => {
      await accounts.resendVerification(account.id);
      return '/account?sent=1';
    });
  });

  app.post('/account/close', { ...csrf, ...passwordOrStepUp }, async (request, reply) => {
    const { account, session } = member(request);
    const sessions = sessionCards(await app.verity.sessions.list(account.id, session.id), app.verity.clock.now());
    return handleForm(request, reply, { template: 'security', title: 'Security', values: {}, extra: { sessions }, fieldFor: { invalid_credentials: 'password' } }, async () => {
      await accounts.close(account.id, parseForm(request, CloseBody).password, requestMeta(request));
      clearSessionCookie(reply, config.production);
      return '/?closed=1';
    });
  });

  /** The "What you can do" panel: the gate's answer for this session, as GET /v1/me/permissions gives it. */
  async function canDo(request: FastifyRequest): Promise<{ canDo: ActionCard[] }> {
    const { account, session } = member(request);
    return { canDo: actionCards(await gate.permissions(account, session)) };
  }
};

function accountValues(request: FastifyRequest) {
  const { account } = member(request);
  return { fullName: account.full_name ?? '', country: account.country, roles: account.roles };
}
