import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../platform/errors.js';
import { member, requireMember, requireStaff } from '../platform/web/auth.js';
import { field, formErrors, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { parseForm } from '../platform/web/form.js';
import { setFlash, takeFlash } from '../platform/web/flash.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { ResendBody, StartBody, VerifyBody, VoipRangeBody } from './schemas.js';
import type { PhoneChannel } from './view.js';

const TITLE = 'Your phone number';
/** Which field a refusal belongs beside on the page. */
// resend_too_soon here comes from "Send code": the wait belongs to the number typed.
const phoneCodes = new Set(['phone_invalid', 'phone_voip', 'phone_type_unsupported', 'phone_country_unsupported', 'phone_in_use', 'phone_already_verified', 'resend_too_soon']);
const codeCodes = new Set(['code_invalid', 'code_expired', 'too_many_attempts']);

const flashes: Record<string, string> = {
  sent: 'We sent you a code. Enter it below.',
  called: 'We are calling you now to read out your code. Enter it below.',
  landline: "This number is a landline, which can't receive texts, so we are calling it and reading the code out instead.",
  verified: 'Your phone number is verified.',
  removed: 'Your phone number was removed.',
};

function channelOf(body: unknown): PhoneChannel | undefined {
  const value = field(body, 'channel');
  return value === 'voice' || value === 'sms' ? value : undefined;
}

/** /account/phone: the same PhoneService as /v1/me/phone, as forms that work without JavaScript. */
export const phonePages: FastifyPluginAsync = async (app) => {
  const { phone } = app.verity;
  const csrf = { preValidation: app.csrfProtection };
  const signedIn = { preHandler: requireMember };
  // Replacing or removing a verified number needs a fresh check, as on the API; a first number does not.
  const changingNumber = { preHandler: app.verity.stepUp.requireIf((request) => phone.hasVerifiedPhone(member(request).account.id)) };

  async function show(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) {
    const { account } = member(request);
    const current = await phone.status(account.id);
    const values = { phone: '', country: account.country, channel: 'sms', code: '' };
    const { values: given, ...rest } = extra;
    return renderPage(request, reply, 'phone', { title: TITLE, status: current, values: { ...values, ...(given as object) }, ...rest }, status);
  }

  /** Where on the page a refusal is said, and what the template needs to know of it. */
  function placed(error: AppError, resending: boolean): Refusal {
    const where = resending ? { errors: {}, resendError: error.detail } : placeError(error);
    return { ...where, problem: { code: error.code, ...error.extra } };
  }

  /**
   * A refused number re-renders the form it was typed in (the page's own address), the input
   * kept. A resend refused for being too soon also counts down on "Send code" while the field
   * holds that number: its cooldown is the number's.
   */
  async function refuseNumber(request: FastifyRequest, reply: FastifyReply, error: unknown, values: Record<string, unknown>) {
    const appError = toAppError(error);
    if (appError.status >= 500) throw error;
    if (appError.retryAfter !== undefined) reply.header('Retry-After', String(appError.retryAfter));
    const sendIn = appError.code === 'resend_too_soon' ? appError.retryAfter : undefined;
    return show(request, reply, { values, ...placed(appError, false), sendIn }, appError.status);
  }

  /**
   * A refused code, resend or removal: post, redirect, get. The refusal rides a short-lived
   * signed cookie to /account/phone, so the address bar shows the page (not the form's
   * target, which a reload would post again) and the code field comes back empty.
   */
  function refuseAndRedirect(request: FastifyRequest, reply: FastifyReply, error: unknown, resending = false) {
    const appError = toAppError(error);
    if (appError.status >= 500) throw error;
    setFlash(request, reply, member(request).account.id, placed(appError, resending));
    return reply.redirect('/account/phone', 303);
  }

  app.get('/account/phone', signedIn, async (request, reply) => {
    const done = (request.query as { done?: unknown }).done;
    const refusal = takeFlash(request, reply, member(request).account.id) as Refusal | undefined;
    return show(request, reply, { flash: typeof done === 'string' ? flashes[done] : undefined, ...refusal });
  });

  app.post('/account/phone', { ...csrf, ...changingNumber }, async (request, reply) => {
    const values = { phone: field(request.body, 'phone'), country: field(request.body, 'country'), channel: channelOf(request.body) ?? 'sms' };
    try {
      // A blank country means "the account's own"; the API leaves the field out for that.
      const input = parseForm(request, StartBody, { country: values.country || undefined });
      const started = await phone.start(member(request).account.id, input, requestMeta(request));
      return reply.redirect(`/account/phone?done=${started.notice ? 'landline' : started.channel === 'voice' ? 'called' : 'sent'}`, 303);
    } catch (error) {
      return refuseNumber(request, reply, error, values);
    }
  });

  app.post('/account/phone/verify', { ...csrf, ...signedIn }, async (request, reply) => {
    try {
      await phone.verify(member(request).account.id, parseForm(request, VerifyBody), requestMeta(request));
      return reply.redirect('/account/phone?done=verified', 303);
    } catch (error) {
      return refuseAndRedirect(request, reply, error);
    }
  });

  app.post('/account/phone/resend', { ...csrf, ...signedIn }, async (request, reply) => {
    try {
      const sent = await phone.resend(member(request).account.id, parseForm(request, ResendBody), requestMeta(request));
      return reply.redirect(`/account/phone?done=${sent.notice ? 'landline' : sent.channel === 'voice' ? 'called' : 'sent'}`, 303);
    } catch (error) {
      return refuseAndRedirect(request, reply, error, true);
    }
  });

  app.post('/account/phone/remove', { ...csrf, ...changingNumber }, async (request, reply) => {
    try {
      await phone.remove(member(request).account.id, requestMeta(request));
      return reply.redirect('/account/phone?done=removed', 303);
    } catch (error) {
      return refuseAndRedirect(request, reply, error);
    }
  });
};

/** A refusal as the page shows it (carried across a redirect in the flash cookie). */
interface Refusal {
  errors: Record<string, string>;
  formError?: string | undefined;
  resendError?: string;
  problem: Record<string, unknown>;
}

function placeError(error: AppError): { errors: Record<string, string>; formError: string | undefined } {
  if (phoneCodes.has(error.code)) return { errors: { phone: error.detail }, formError: undefined };
  if (codeCodes.has(error.code)) return { errors: { code: error.detail }, formError: undefined };
  return formErrors(error);
}

/** /admin/voip-ranges: the operator's list of number ranges refused as VoIP or as machine-to-machine. */
export const phoneAdminPages: FastifyPluginAsync = async (app) => {
  const { phone } = app.verity;
  const adminOnly = { preValidation: app.csrfProtection, preHandler: requireStaff('admin') };
  const title = 'Refused number ranges';

  async function show(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) {
    return renderPage(request, reply, 'admin-voip-ranges', { title, ranges: await phone.voipRanges.list(), values: {}, ...extra }, status);
  }

  app.get('/admin/voip-ranges', { preHandler: requireStaff('admin') }, async (request, reply) => {
    const done = (request.query as { done?: unknown }).done;
    return show(request, reply, { flash: done === 'added' ? 'Range added.' : done === 'removed' ? 'Range removed.' : undefined });
  });

  app.post('/admin/voip-ranges', adminOnly, async (request, reply) => {
    const values = { prefix: field(request.body, 'prefix'), kind: field(request.body, 'kind') || undefined, note: field(request.body, 'note') };
    try {
      await phone.voipRanges.add(member(request).account.id, parseForm(request, VoipRangeBody), requestMeta(request));
      return reply.redirect('/admin/voip-ranges?done=added', 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return show(request, reply, { values, ...formErrors(appError) }, appError.status);
    }
  });

  app.post('/admin/voip-ranges/:id/remove', adminOnly, async (request, reply) => {
    const { id } = request.params as { id: string };
    try {
      await phone.voipRanges.remove(member(request).account.id, id, requestMeta(request));
      return reply.redirect('/admin/voip-ranges?done=removed', 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return show(request, reply, { formError: appError.detail }, appError.status);
    }
  });
};
