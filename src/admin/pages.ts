import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.js';
import { setupTokenPath } from './service.js';
import { member, requireMember, requireStaff } from '../platform/web/auth.js';
import { field, formErrors, ignoreNotFound, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';

/** /admin: first-admin setup, staff roles and service keys. */
export const adminPages: FastifyPluginAsync = async (app) => {
  const { admin } = app.verity;
  const csrf = { preValidation: app.csrfProtection };
  const adminOnly = { ...csrf, preHandler: requireStaff('admin') };

  async function show(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) {
    const roles = await admin.staffRoles(member(request).account.id);
    const isAdmin = roles.includes('admin');
    if (!isAdmin && roles.length === 0 && (await admin.adminExists())) throw new AppError('forbidden');
    const data = isAdmin ? { staff: await admin.listStaff(), keys: await admin.listServiceKeys() } : {};
    const setup = isAdmin ? {} : { setupTokenFile: setupTokenPath(app.verity.config.dataDir) };
    return renderPage(request, reply, 'admin', { title: 'Administration', isAdmin, values: {}, ...setup, ...data, ...extra }, status);
  }

  app.get('/admin', { preHandler: requireMember }, async (request, reply) => {
    const done = (request.query as { done?: unknown }).done;
    return show(request, reply, { flash: typeof done === 'string' ? doneMessages[done] : undefined });
  });

  app.post('/admin/setup', { ...csrf, preHandler: requireMember }, async (request, reply) => {
    try {
      await admin.setup(member(request).account.id, field(request.body, 'token').trim(), requestMeta(request));
      return reply.redirect('/admin?done=setup', 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return show(request, reply, formErrors(appError, { token_invalid: 'token', invalid_request: 'token' }), appError.status);
    }
  });

  app.post('/admin/staff', adminOnly, async (request, reply) => {
    const values = { login: field(request.body, 'login') };
    const role = field(request.body, 'role') === 'admin' ? 'admin' : 'agent';
    try {
      await admin.grant(member(request).account.id, values.login, role, requestMeta(request));
      return reply.redirect('/admin?done=granted', 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return show(request, reply, { values, ...formErrors(appError, { not_found: 'login', invalid_request: 'login' }) }, appError.status);
    }
  });

  app.post('/admin/staff/:accountId/:role/remove', adminOnly, async (request, reply) => {
    const { accountId, role } = request.params as { accountId: string; role: string };
    try {
      await admin.revoke(member(request).account.id, accountId, role, requestMeta(request));
      return reply.redirect('/admin?done=removed', 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return show(request, reply, { formError: appError.detail }, appError.status);
    }
  });

  app.post('/admin/service-keys', adminOnly, async (request, reply) => {
    const name = field(request.body, 'name');
    try {
      const created = await admin.createServiceKey(member(request).account.id, name, requestMeta(request));
      return show(request, reply, { newKey: created }, 201);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return show(request, reply, { values: { name }, ...formErrors(appError) }, appError.status);
    }
  });

  app.post('/admin/service-keys/:id/revoke', adminOnly, async (request, reply) => {
    const { id } = request.params as { id: string };
    // A key revoked already (a double submit) is simply gone; any other failure is a real error.
    await admin.revokeServiceKey(member(request).account.id, id, requestMeta(request)).catch(ignoreNotFound);
    return reply.redirect('/admin?done=revoked', 303);
  });
};

const doneMessages: Record<string, string> = {
  setup: 'You are now an administrator.',
  granted: 'Role granted.',
  removed: 'Role removed.',
  revoked: 'Service key revoked.',
};
