import type { FastifyPluginAsync } from 'fastify';
import { clearSessionCookie, currentMember, member, requireMember, setDeviceCookie, setSessionCookie } from '../platform/web/auth.js';
import { field, handleForm, ignoreNotFound, renderPage, safeNext } from '../platform/web/pages.js';
import { parseForm } from '../platform/web/form.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { twoStepSection } from '../twostep/pages.js';
import { securityEventsSection } from '../agent/member-events.js';
import { startLoginChallenge } from '../challenges/pages.js';
import { sessionCards } from './view.js';
import { SignInBody } from './schemas.js';

/** /login, /logout and the sessions part of /account/security. */
export const sessionPages: FastifyPluginAsync = async (app) => {
  const { sessions, config, clock } = app.verity;
  const csrf = { preValidation: app.csrfProtection };
  const signedIn = { preHandler: requireMember };

  app.get('/login', async (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next);
    if (await currentMember(request)) return reply.redirect(next, 303);
    return renderPage(request, reply, 'login', { title: 'Sign in', values: { next } });
  });

  app.post('/login', csrf, async (request, reply) => {
    const values = { login: field(request.body, 'login'), next: safeNext(field(request.body, 'next')) };
    return handleForm(request, reply, { template: 'login', title: 'Sign in', values, fieldFor: { invalid_credentials: 'password' } }, async () => {
      const result = await sessions.signIn(parseForm(request, SignInBody), requestMeta(request));
      if (result.status === 'two_step_required') return startLoginChallenge(request, reply, result.challenge, values.next);
      setSessionCookie(reply, result.issued.token, result.issued.expiresAt, config.production);
      setDeviceCookie(reply, result.issued.device.cookie, config.production);
      return values.next;
    });
  });

  app.post('/logout', csrf, async (request, reply) => {
    const found = await currentMember(request);
    if (found) await sessions.signOut(found.account.id, found.session.id, requestMeta(request));
    clearSessionCookie(reply, config.production);
    return reply.redirect('/', 303);
  });

  app.get('/account/security', signedIn, async (request, reply) => {
    const { account, session } = member(request);
    const flash = (request.query as { done?: unknown }).done === 'others' ? 'Every other session is signed out.' : undefined;
    return renderPage(request, reply, 'security', { title: 'Security', sessions: sessionCards(await sessions.list(account.id, session.id), clock.now()), flash, ...(await twoStepSection(request)), ...(await securityEventsSection(request)) });
  });

  app.post('/account/security/sessions/revoke-others', { ...csrf, ...signedIn }, async (request, reply) => {
    const { account, session } = member(request);
    await sessions.revokeOthers(account.id, session.id, requestMeta(request));
    return reply.redirect('/account/security?done=others', 303);
  });

  app.post('/account/security/sessions/:id/revoke', { ...csrf, ...signedIn }, async (request, reply) => {
    const { account } = member(request);
    const { id } = request.params as { id: string };
    // An unknown or already-ended session is simply gone; any other failure is a real error.
    await sessions.revoke(account.id, id, requestMeta(request)).catch(ignoreNotFound);
    return reply.redirect('/account/security', 303);
  });
};
