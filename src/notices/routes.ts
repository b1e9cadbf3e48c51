import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireStaff } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { USER_TYPES } from './feed.js';
import { FeedBody } from './schemas.js';
import type { NoticeService } from './service.js';

const NoticeSchema = Type.Object({
  message: Type.String(),
  icon: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error'), Type.Literal('success')]),
  scope: Type.Union([Type.Literal('global'), Type.Literal('targeted')]),
});

const FeedMessageSchema = Type.Object(
  { message: Type.String(), icon: Type.String(), start: Type.Optional(Type.String()), end: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

// Documents the feed; the body is checked by validateFeed so that every error is listed at once.
// It is sent as the stored JSON text (hence "Unsafe<string>"), so it reads back exactly as given.
const FeedSchema = Type.Unsafe<string>(
  Type.Object(
    {
      global: FeedMessageSchema,
      responsive: Type.Array(Type.Intersect([FeedMessageSchema, Type.Object({ country: Type.String(), usertype: Type.String() })])),
    },
    { additionalProperties: true, description: 'The notice feed, in the shape given in docs/RULES.md' },
  ),
);

const USER_TYPE_LIST = `^(${USER_TYPES.join('|')})(,(${USER_TYPES.join('|')}))*$`;

/**
 * /v1/notices: the feed as stored, the notices active for a viewer, and the admins' edit.
 * The service comes as an option: the app context exposes only its page-banner side.
 */
export const noticeRoutes: FastifyPluginAsyncTypebox<{ notices: NoticeService }> = async (app, { notices }) => {

  app.get('/notices/feed', {
    schema: { tags: ['notices'], summary: 'The notice feed exactly as it was stored', response: { 200: FeedSchema } },
  }, async (_request, reply) => {
    return reply.type('application/json; charset=utf-8').send(await notices.feedText());
  });

  app.get('/notices', {
    schema: {
      tags: ['notices'],
      summary: 'The notices active now for a country and user type',
      querystring: Type.Object({
        country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2' })),
        usertype: Type.Optional(Type.String({ pattern: USER_TYPE_LIST, description: 'freelancer, client, agency or all; several separated by commas' })),
      }),
      response: { 200: Type.Array(NoticeSchema), ...problems(400) },
    },
  }, async (request) => {
    const { country, usertype } = request.query;
    return notices.forViewer({ country: country?.toUpperCase() ?? null, userTypes: usertype ? usertype.split(',') : [] });
  });

  app.put('/admin/notices/feed', {
    preHandler: requireStaff('admin'),
    schema: {
      tags: ['admin', 'notices'],
      summary: 'Replace the notice feed; every error is listed at once and a refused feed leaves the old one in place',
      security: [{ session: [] }],
      body: FeedBody,
      response: { 200: FeedSchema, ...problems(400, 401, 403, 415, 422) },
    },
  }, async (request, reply) => {
    const text = await notices.replace(request.body, { actorId: member(request).account.id, meta: requestMeta(request) });
    return reply.type('application/json; charset=utf-8').send(text);
  });
};
