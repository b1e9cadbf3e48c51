import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { callerOf } from '../challenges/routes.js';
import { ChallengeParams } from '../challenges/schemas.js';
import { TokenParams } from '../recovery/schemas.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { QuestionSchema, SecurityQuestionBody } from '../twostep/schemas.js';
import type { ForgotAnswerService } from './service.js';

const Sent = Type.Object({ status: Type.Literal('sent'), expiresAt: Type.String({ description: 'Until when the e-mailed link works (60 minutes)' }) });
const Reset = Type.Object({ status: Type.Literal('answer_reset'), securityQuestion: QuestionSchema });

/** "Forgot your answer?" at a challenge, and the e-mailed link's new question and answer. */
export const forgotAnswerRoutes: FastifyPluginAsyncTypebox<{ forgotAnswer: ForgotAnswerService }> = async (app, { forgotAnswer }) => {
  app.post('/challenges/:id/forgot-answer', {
    schema: {
      tags: ['challenges'],
      summary: "Forgot the security answer: e-mails a single-use link (60 minutes) to set a new question and answer. It does not pass the challenge",
      description: '409 no_security_question when the challenge does not list the security question; 409 email_verification_required when the e-mail is not confirmed; 409 answer_reset_needs_other_step at a recovery challenge, whose reset link came to the same inbox.',
      params: ChallengeParams,
      response: { 202: Sent, ...problems(400, 409, 410, 429) },
    },
  }, async (request, reply) => {
    const sent = await forgotAnswer.request(request.params.id, await callerOf(request), requestMeta(request));
    return reply.code(202).send({ status: 'sent' as const, expiresAt: sent.expiresAt.toISOString() });
  });

  app.post('/recovery/security-answer/:token', {
    schema: {
      tags: ['recovery'],
      summary: 'Sets a new security question and answer through the e-mailed link; the challenge that asked then takes the new answer',
      params: TokenParams,
      body: SecurityQuestionBody,
      response: { 200: Reset, ...problems(400, 410, 422) },
    },
  }, async (request) => {
    const securityQuestion = await forgotAnswer.reset(request.params.token, request.body, requestMeta(request));
    return { status: 'answer_reset' as const, securityQuestion };
  });
};
