import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { member, requireMember } from '../platform/web/auth.js';
import { parseForm } from '../platform/web/form.js';
import { field, formErrors, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { ClaimStartBody, VerifyBody } from './schemas.js';

const TITLE = 'This number is mine now';
const numberCodes = new Set(['phone_invalid', 'phone_country_unsupported', 'phone_not_in_use', 'phone_already_verified', 'claim_open', 'resend_too_soon']);
const codeCodes = new Set(['code_invalid', 'code_expired', 'too_many_attempts', 'no_pending_verification']);

/** /account/phone/claim: prove with a code that you hold a number another account has, and file the request. */
export const phoneClaimPages: FastifyPluginAsync = async (app) => {
  const { claims } = app.verity.phone;
  const csrf = { preValidation: app.csrfProtection };
  const signedIn = { preHandler: requireMember };

  async function show(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) {
    const { account } = member(request);
    const pending = await claims.pending(account.id);
    const phone = (request.query as { phone?: unknown }).phone;
    const values = { phone: typeof phone === 'string' ? phone.slice(0, 40) : (pending?.phone ?? ''), country: account.country, code: '' };
    const { values: given, ...rest } = extra;
    const sent = (request.query as { sent?: unknown }).sent === '1';
    return renderPage(request, reply, 'phone-claim', { title: TITLE, pending, flash: sent && pending ? 'We sent a code to the number. Enter it below.' : undefined, values: { ...values, ...(given as object) }, ...rest }, status);
  }

  function refuse(request: FastifyRequest, reply: FastifyReply, error: unknown, values: Record<string, string>) {
    const appError = toAppError(error);
    if (appError.status >= 500) throw error;
    if (appError.retryAfter !== undefined) reply.header('Retry-After', String(appError.retryAfter));
    const placed = numberCodes.has(appError.code) ? { errors: { phone: appError.detail } } : codeCodes.has(appError.code) ? { errors: { code: appError.detail } } : formErrors(appError);
    return show(request, reply, { values, ...placed }, appError.status);
  }

  app.get('/account/phone/claim', signedIn, async (request, reply) => show(request, reply));

  app.post('/account/phone/claim', { ...csrf, ...signedIn }, async (request, reply) => {
    const values = { phone: field(request.body, 'phone'), country: field(request.body, 'country') };
    try {
      await claims.start(member(request).account.id, parseForm(request, ClaimStartBody, { country: values.country || undefined }), requestMeta(request));
      return reply.redirect('/account/phone/claim?sent=1', 303);
    } catch (error) {
      return refuse(request, reply, error, values);
    }
  });

  app.post('/account/phone/claim/verify', { ...csrf, ...signedIn }, async (request, reply) => {
    try {
      await claims.prove(member(request).account.id, parseForm(request, VerifyBody), requestMeta(request));
      return reply.redirect('/account/security?done=claim#requests-title', 303);
    } catch (error) {
      return refuse(request, reply, error, {});
    }
  });
};
