import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireMember, clearSessionCookie } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { checkEmail } from '../accounts/rules.js';
import { invalid, type FieldError } from '../platform/errors.js';
import type { RecoveryService } from './service.js';
import { AnonymousReportBody, LoginBody, NewPasswordBody, SignedInReportBody, TokenParams } from './schemas.js';

const Accepted = Type.Object({ status: Type.Literal('sent_if_exists') });

/** /v1/recovery/*: forgot password, "this wasn't me", compromise reports. */
export const recoveryRoutes: FastifyPluginAsyncTypebox<{ recovery: RecoveryService }> = async (app, { recovery }) => {
  const { config } = app.verity;

  app.post('/recovery/password', {
    schema: {
      tags: ['recovery'],
      summary: 'Forgot password: e-mails a reset link if the account exists; the answer is the same either way',
      body: LoginBody,
      response: { 202: Accepted, ...problems(400, 429) },
    },
  }, async (request, reply) => {
    await recovery.requestPasswordReset(request.body.login, requestMeta(request));
    return reply.code(202).send({ status: 'sent_if_exists' as const });
  });

  app.get('/recovery/password/:token', {
    schema: {
      tags: ['recovery'],
      summary: 'What a reset link needs before a new password: a two-step check when the account has 2SV',
      params: TokenParams,
      response: { 200: Type.Object({ twoStepRequired: Type.Boolean(), challenge: Type.Optional(Type.Unknown()) }), ...problems(400, 410) },
    },
  }, async (request) => recovery.inspectReset(request.params.token));

  app.post('/recovery/password/:token', {
    schema: {
      tags: ['recovery'],
      summary: 'Sets the new password: every session ends, a lock ends, a notice is e-mailed; it does not sign in',
      params: TokenParams,
      body: NewPasswordBody,
      response: { 200: Type.Object({ status: Type.Literal('password_reset') }), ...problems(400, 403, 410, 422) },
    },
  }, async (request) => {
    await recovery.resetPassword(request.params.token, request.body.newPassword, requestMeta(request));
    return { status: 'password_reset' as const };
  });

  app.post('/recovery/not-me/:token', {
    schema: {
      tags: ['recovery'],
      summary: '"This wasn\'t me" from a security e-mail: locks the account, ends every session, opens a priority case',
      params: TokenParams,
      response: { 200: Type.Object({ status: Type.Literal('locked') }), ...problems(400, 410) },
    },
  }, async (request) => {
    await recovery.notMe(request.params.token, requestMeta(request));
    return { status: 'locked' as const };
  });

  app.post('/recovery/compromised', {
    schema: {
      tags: ['recovery'],
      summary: 'Report an account compromised without signing in: opens a case, locks nothing',
      body: AnonymousReportBody,
      response: { 202: Type.Object({ ticketId: Type.String() }), ...problems(400, 429) },
    },
  }, async (request, reply) => {
    const errors: FieldError[] = [];
    checkEmail(request.body.contactEmail.trim(), errors, '/contactEmail');
    if (errors.length) throw invalid(errors);
    return reply.code(202).send(await recovery.reportCompromisedAnonymously(request.body, requestMeta(request)));
  });

  app.post('/me/compromised', {
    preHandler: requireMember,
    schema: {
      tags: ['recovery'],
      summary: 'My account is compromised: every session ends (this one too), a password reset is required, a priority case opens',
      security: [{ session: [] }],
      body: Type.Optional(SignedInReportBody),
      response: { 202: Type.Object({ status: Type.Literal('locked') }), ...problems(400, 401) },
    },
  }, async (request, reply) => {
    await recovery.reportCompromised(member(request).account.id, request.body?.details ?? '', requestMeta(request));
    clearSessionCookie(reply, config.production);
    return reply.code(202).send({ status: 'locked' as const });
  });
};
