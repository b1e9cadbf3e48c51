import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireMember, requireStaff } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { GrantBody, ServiceKeyBody, SetupBody } from './schemas.js';

/** /v1/admin: the first admin, staff roles and service keys. */
export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { admin } = app.verity;
  const adminOnly = requireStaff('admin');

  app.post('/admin/setup', {
    preHandler: requireMember,
    schema: {
      tags: ['admin'],
      summary: 'Become the first admin with the one-time token from the admin-setup-token file in DATA_DIR (the start log and /admin give its path)',
      security: [{ session: [] }],
      body: SetupBody,
      response: { 200: Type.Object({ status: Type.Literal('admin') }), ...problems(400, 401, 410, 429) },
    },
  }, async (request) => {
    await admin.setup(member(request).account.id, request.body.token, requestMeta(request));
    return { status: 'admin' as const };
  });

  app.get('/admin/staff', {
    preHandler: adminOnly,
    schema: { tags: ['admin'], summary: 'Staff members and their roles', security: [{ session: [] }], response: { ...problems(401, 403) } },
  }, async () => admin.listStaff());

  app.post('/admin/staff', {
    preHandler: adminOnly,
    schema: {
      tags: ['admin'],
      summary: 'Give an account a staff role',
      security: [{ session: [] }],
      body: GrantBody,
      response: { 200: Type.Object({ accountId: Type.String(), role: Type.String() }), ...problems(400, 401, 403, 404) },
    },
  }, async (request) => admin.grant(member(request).account.id, request.body.login, request.body.role, requestMeta(request)));

  app.delete('/admin/staff/:accountId/:role', {
    preHandler: adminOnly,
    schema: {
      tags: ['admin'],
      summary: 'Take a staff role away',
      security: [{ session: [] }],
      params: Type.Object({ accountId: Type.String({ maxLength: 64 }), role: Type.String({ maxLength: 16 }) }),
      response: { 204: Type.Null(), ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    await admin.revoke(member(request).account.id, request.params.accountId, request.params.role, requestMeta(request));
    return reply.code(204).send(null);
  });

  app.get('/admin/service-keys', {
    preHandler: adminOnly,
    schema: { tags: ['admin'], summary: 'Active service keys (never the keys themselves)', security: [{ session: [] }], response: { ...problems(401, 403) } },
  }, async () => admin.listServiceKeys());

  app.post('/admin/service-keys', {
    preHandler: adminOnly,
    schema: {
      tags: ['admin'],
      summary: 'Create a service key for another marketplace service; the key is shown once',
      security: [{ session: [] }],
      body: ServiceKeyBody,
      response: { 201: Type.Object({ id: Type.String(), name: Type.String(), key: Type.String() }), ...problems(400, 401, 403) },
    },
  }, async (request, reply) => {
    const created = await admin.createServiceKey(member(request).account.id, request.body.name, requestMeta(request));
    return reply.code(201).send(created);
  });

  app.delete('/admin/service-keys/:id', {
    preHandler: adminOnly,
    schema: {
      tags: ['admin'],
      summary: 'Revoke a service key',
      security: [{ session: [] }],
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    await admin.revokeServiceKey(member(request).account.id, request.params.id, requestMeta(request));
    return reply.code(204).send(null);
  });
};
