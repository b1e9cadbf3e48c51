import type { FastifyPluginAsync } from 'fastify';
import { currentMember } from '../platform/web/auth.js';
import { cookieName, cookieOptions } from '../platform/web/cookies.js';
import { parseDismissed, serializeDismissed } from '../platform/web/notices.js';
import { field, safeNext } from '../platform/web/pages.js';
import type { NoticeService } from './service.js';

const YEAR_SECONDS = 365 * 24 * 3600;

/**
 * POST /notices/dismiss, the × on every banner: a plain form, so it works without JavaScript.
 * A member's dismissal is stored (it follows them to every device); a visitor's is kept in a
 * cookie. Either lasts until the notice's content changes. Then back to the page it came from.
 */
export const noticeDismissPages: FastifyPluginAsync<{ notices: NoticeService }> = async (app, { notices }) => {
  const { config } = app.verity;
  const cookie = cookieName('dismissedNotices', config.production);

  app.post('/notices/dismiss', { preValidation: app.csrfProtection }, async (request, reply) => {
    const key = field(request.body, 'key');
    const found = await currentMember(request);
    if (found) {
      await notices.dismissForAccount(found.account.id, key);
    } else {
      const keys = await notices.dismissForVisitor(parseDismissed(request.cookies[cookie]), key);
      reply.setCookie(cookie, serializeDismissed(keys), cookieOptions(config.production, { maxAge: YEAR_SECONDS }));
    }
    return reply.redirect(safeNext(field(request.body, 'next'), '/'), 303);
  });
};
