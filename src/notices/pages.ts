import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.js';
import { member, requireStaff } from '../platform/web/auth.js';
import { validateForm } from '../platform/web/form.js';
import { field, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { ICONS, MESSAGE_MAX, USER_TYPES } from './feed.js';
import { FeedBody } from './schemas.js';
import type { NoticeService } from './service.js';

const rules = { icons: ICONS, userTypes: USER_TYPES, messageMax: MESSAGE_MAX };

/** /admin/notices: admins edit the notice feed as JSON; every error is listed. */
export const noticePages: FastifyPluginAsync<{ notices: NoticeService }> = async (app, { notices }) => {

  function show(request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown>, status = 200) {
    return renderPage(request, reply, 'admin-notices', { title: 'Notices', rules, feedErrors: [], ...data }, status);
  }

  app.get('/admin/notices', { preHandler: requireStaff('admin') }, async (request, reply) => {
    const stored = JSON.parse(await notices.feedText()) as unknown;
    const saved = (request.query as { saved?: unknown }).saved === '1';
    return show(request, reply, { values: { feed: JSON.stringify(stored, null, 2) }, saved });
  });

  app.post('/admin/notices', { preValidation: app.csrfProtection, preHandler: requireStaff('admin') }, async (request, reply) => {
    const text = field(request.body, 'feed');
    try {
      let proposed: unknown;
      try {
        proposed = JSON.parse(text);
      } catch (error) {
        const reason = error instanceof Error ? error.message : 'it could not be read';
        throw new AppError('invalid_feed', { extra: { errors: [{ path: '/', message: `This is not valid JSON: ${reason}.` }] } });
      }
      await notices.replace(validateForm(request, FeedBody, proposed), { actorId: member(request).account.id, meta: requestMeta(request) });
      return reply.redirect('/admin/notices?saved=1', 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return show(request, reply, { values: { feed: text }, formError: appError.detail, feedErrors: appError.fieldErrors }, appError.status);
    }
  });
};
