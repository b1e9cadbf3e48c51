import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireMember } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { NoContent, problems } from '../platform/web/schemas.js';
import { guardTwoStepChanges } from './guard.js';
import { SECURITY_QUESTIONS } from './methods/security-question.js';
import {
  BackupCodesSchema,
  OverviewSchema,
  PasskeyIdParams,
  PasskeyOptionsSchema,
  PasskeyRegisterBody,
  PasskeySchema,
  QuestionSchema,
  SecurityQuestionBody,
  TotpConfirmBody,
  TotpSetupSchema,
  TypeParams,
} from './schemas.js';

/** /v1/me/two-step: the member's two-step methods; /v1/security-questions: the question list. */
export const twoStepRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { twoStep } = app.verity;
  const signedIn = { preHandler: requireMember };
  const security = [{ session: [] }];
  const tags = ['two-step'];
  const me = (request: Parameters<typeof member>[0]) => member(request).account.id;
  // Every write below answers 403 step_up_required (with a challenge) while 2SV is on and this session has not stepped up.
  guardTwoStepChanges(app);

  app.get('/security-questions', {
    schema: { tags, summary: 'The questions a security question can be chosen from', response: { 200: Type.Array(QuestionSchema) } },
  }, async () => SECURITY_QUESTIONS.map(({ id, text }) => ({ id, text })));

  app.get('/me/two-step', {
    ...signedIn,
    schema: { tags, summary: 'Whether 2SV is on, the methods, backup codes left (low at 2 or fewer), and what to add next', security, response: { 200: OverviewSchema, ...problems(401) } },
  }, async (request) => twoStep.overview(me(request)));

  app.post('/me/two-step/totp', {
    ...signedIn,
    schema: {
      tags,
      summary: 'Start adding an authenticator app: a new secret as text, otpauth:// URI and QR code (SVG)',
      description: 'Nothing changes until a first code confirms it (POST /v1/me/two-step/totp/confirm) within 15 minutes.',
      security,
      response: { 200: TotpSetupSchema, ...problems(401) },
    },
  }, async (request) => twoStep.totp.begin(me(request)));

  app.post('/me/two-step/totp/confirm', {
    ...signedIn,
    schema: {
      tags,
      summary: 'Confirm the authenticator app with its current code; it replaces an earlier app',
      security,
      body: TotpConfirmBody,
      response: { 200: OverviewSchema, ...problems(400, 401, 404, 422) },
    },
  }, async (request) => {
    await twoStep.totp.confirm(me(request), request.body, requestMeta(request));
    return twoStep.overview(me(request));
  });

  app.post('/me/two-step/sms', {
    ...signedIn,
    schema: { tags, summary: 'Receive codes by text message at the verified phone', security, response: { 200: OverviewSchema, ...problems(401, 409) } },
  }, async (request) => {
    await twoStep.phoneCodes.enable(me(request), 'sms', requestMeta(request));
    return twoStep.overview(me(request));
  });

  app.post('/me/two-step/voice', {
    ...signedIn,
    schema: { tags, summary: 'Receive codes by voice call at the verified phone', security, response: { 200: OverviewSchema, ...problems(401, 409) } },
  }, async (request) => {
    await twoStep.phoneCodes.enable(me(request), 'voice', requestMeta(request));
    return twoStep.overview(me(request));
  });

  app.post('/me/two-step/email', {
    ...signedIn,
    schema: { tags, summary: 'Receive codes by e-mail at the confirmed address', security, response: { 200: OverviewSchema, ...problems(401, 409) } },
  }, async (request) => {
    await twoStep.emailCodes.enable(me(request), requestMeta(request));
    return twoStep.overview(me(request));
  });

  app.put('/me/two-step/security-question', {
    ...signedIn,
    schema: {
      tags,
      summary: 'Set or change the security question and its answer (at least 3 characters once normalised)',
      security,
      body: SecurityQuestionBody,
      response: { 200: OverviewSchema, ...problems(400, 401, 422) },
    },
  }, async (request) => {
    await twoStep.securityQuestion.set(me(request), request.body, requestMeta(request));
    return twoStep.overview(me(request));
  });

  app.post('/me/two-step/backup-codes', {
    ...signedIn,
    schema: { tags, summary: 'Create 10 single-use backup codes, shown once; earlier codes stop working', security, response: { 200: BackupCodesSchema, ...problems(401) } },
  }, async (request) => ({ codes: await twoStep.backupCodes.generate(me(request), requestMeta(request)) }));

  app.post('/me/two-step/passkeys/options', {
    ...signedIn,
    schema: { tags, summary: 'WebAuthn creation options for a new passkey or security key', security, response: { 200: PasskeyOptionsSchema, ...problems(401) } },
  }, async (request) => twoStep.passkeys.registrationOptions(me(request)));

  app.post('/me/two-step/passkeys', {
    ...signedIn,
    schema: {
      tags,
      summary: "Register a passkey with the browser's attestation",
      security,
      body: PasskeyRegisterBody,
      response: { 201: PasskeySchema, ...problems(400, 401, 422) },
    },
  }, async (request, reply) => reply.code(201).send(await twoStep.passkeys.register(me(request), request.body, requestMeta(request))));

  app.delete('/me/two-step/passkeys/:id', {
    ...signedIn,
    schema: { tags, summary: 'Remove one passkey', security, params: PasskeyIdParams, response: { 204: NoContent, ...problems(401, 404) } },
  }, async (request, reply) => {
    await twoStep.passkeys.remove(me(request), request.params.id, requestMeta(request));
    return reply.code(204).send(null);
  });

  app.post('/me/two-step/suspended/:type/confirm', {
    // A suspended method is one an intruder may have added: only a fresh step-up (passed with
    // a method that is not suspended, or the new password) may vouch for it.
    preHandler: app.verity.stepUp.require,
    schema: {
      tags,
      summary: 'Confirm a method suspended by a lock for compromise: it counts again (needs a fresh step-up)',
      security,
      params: TypeParams,
      response: { 200: OverviewSchema, ...problems(400, 401, 403, 404) },
    },
  }, async (request) => {
    await twoStep.confirmSuspended(me(request), request.params.type, { kind: 'member', meta: requestMeta(request) });
    return twoStep.overview(me(request));
  });

  app.delete('/me/two-step/:type', {
    ...signedIn,
    schema: { tags, summary: 'Turn one method off (passkey: every passkey); the last one turns 2SV off', security, params: TypeParams, response: { 204: NoContent, ...problems(400, 401, 404) } },
  }, async (request, reply) => {
    await twoStep.remove(me(request), request.params.type, requestMeta(request));
    return reply.code(204).send(null);
  });
};
