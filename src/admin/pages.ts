import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { setupTokenPath } from './service.js';
import { member, requireMember, requireStaff } from '../platform/web/auth.js';
import { parseForm } from '../platform/web/form.js';
import { field, formErrors, ignoreNotFound, renderPage, type FieldFor } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { GrantBody, ServiceKeyBody, SetupBody } from './schemas.js';

/** /admin: first-admin setup, staff roles and service keys. */
export const adminPages: FastifyPluginAsync = async (app) => {
  const { admin } = app.verity;
  const csrf = { preValidation: app.csrfProtection };
  const adminOnly = { ...csrf, preHandler: requireStaff('admin') };

  /** /admin is for admins; until the first one exists, any member may claim it with the setup token. */
  async function adminOrSetup(request: FastifyRequest): Promise<void> {
    await requireMember(request);
    if (await admin.adminExists()) await requireStaff('admin')(request);
  }

  async function show(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) {
    const isAdmin = (await admin.staffRoles(member(request).account.id)).includes('admin');
    const data = isAdmin ? { staff: await admin.listStaff(), keys: await admin.listServiceKeys() } : {};
    const setup = isAdmin ? {} : { setupTokenFile: setupTokenPath(app.verity.config.dataDir) };
    return renderPage(request, reply, 'admin', { title: 'Administration', isAdmin, values: {}, ...setup, ...data, ...extra }, status);
  }

  /** A refusal re-renders the page with the problem beside its field, the input kept. */
  async function refuse(request: FastifyRequest, reply: FastifyReply, error: unknown, values: Record<string, unknown> = {}, fieldFor: FieldFor = {}) {
    const appError = toAppError(error);
    if (appError.status >= 500) throw error;
    return show(request, reply, { values, ...formErrors(appError, fieldFor) }, appError.status);
  }

  app.get('/admin', { preHandler: adminOrSetup }, async (request, reply) => {
    const done = (request.query as { done?: unknown }).done;
    return show(request, reply, { flash: typeof done === 'string' ? doneMessages[done] : undefined });
  });

  app.post('/admin/setup', { ...csrf, preHandler: requireMember }, async (request, reply) => {
    try {
      await admin.setup(member(request).account.id, parseForm(request, SetupBody).token, requestMeta(request));
      return reply.redirect('/admin?done=setup', 303);
    } catch (error) {
      return refuse(request, reply, error, {}, { token_invalid: 'token' });
    }
  });

  app.post('/admin/staff', adminOnly, async (request, reply) => {
    try {
      const { login, role } = parseForm(request, GrantBody);
      await admin.grant(member(request).account.id, login, role, requestMeta(request));
      return reply.redirect('/admin?done=granted', 303);
    } catch (error) {
      return refuse(request, reply, error, { login: field(request.body, 'login'), role: field(request.body, 'role') }, { not_found: 'login' });
    }
  });

  app.post('/admin/staff/:accountId/:role/remove', adminOnly, async (request, reply) => {
    const { accountId, role } = request.params as { accountId: string; role: string };
    try {
      await admin.revoke(member(request).account.id, accountId, role, requestMeta(request));
      return reply.redirect('/admin?done=removed', 303);
    } catch (error) {
      return refuse(request, reply, error);
    }
  });

  app.post('/admin/service-keys', adminOnly, async (request, reply) => {
    try {
      const created = await admin.createServiceKey(member(request).account.id, parseForm(request, ServiceKeyBody).name, requestMeta(request));
      return show(request, reply, { newKey: created }, 201);
    } catch (error) {
      return refuse(request, reply, error, { name: field(request.body, 'name') });
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
