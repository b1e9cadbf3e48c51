import { Type } from 'typebox';
import { IsoTime, Strict } from '../platform/web/schemas.js';
import { ANSWER_MAX_LENGTH } from './methods/security-question.js';

export const TypeSchema = Type.Union(
  [
    Type.Literal('sms'),
    Type.Literal('voice'),
    Type.Literal('email'),
    Type.Literal('totp'),
    Type.Literal('security_question'),
    Type.Literal('backup_code'),
    Type.Literal('passkey'),
  ],
  { description: 'A two-step method type' },
);

/** WebAuthn JSON (options, attestation, assertion): passed through as the browser library made it. */
const WebAuthnJson = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const PasskeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: IsoTime,
  lastUsedAt: Type.Union([IsoTime, Type.Null()]),
});

export const OverviewSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'On while at least one confirmed method is usable (suspended methods do not count)' }),
    methods: Type.Array(
      Type.Object(
        {
          type: TypeSchema,
          addedAt: IsoTime,
          remaining: Type.Optional(Type.Integer({ description: 'backup_code: unused codes' })),
          suspended: Type.Boolean({ description: 'Held back after a lock for compromise (set up in the 24 hours before it): not offered at challenges until confirmed (POST /v1/me/two-step/suspended/{type}/confirm, step-up) or removed' }),
          suspendedAt: Type.Optional(IsoTime),
        },
        { additionalProperties: true },
      ),
    ),
    recommendation: Type.Optional(
      Type.Object({
        code: Type.Union([Type.Literal('turn_on'), Type.Literal('add_second_method'), Type.Literal('new_backup_codes'), Type.Literal('confirm_suspended')]),
        message: Type.String(),
      }),
    ),
    backupCodes: Type.Union([Type.Object({ remaining: Type.Integer(), low: Type.Boolean({ description: 'true at 2 or fewer' }) }), Type.Null()]),
    passkeys: Type.Array(PasskeySchema),
    securityQuestion: Type.Union([Type.Object({ id: Type.String(), text: Type.String() }), Type.Null()]),
  },
  { additionalProperties: true },
);

export const TotpSetupSchema = Type.Object({
  setupId: Type.String(),
  secret: Type.String({ description: 'Base32, for typing into the app by hand' }),
  otpauthUri: Type.String({ description: 'otpauth://totp/Verity:<username>?…' }),
  qrSvg: Type.String({ description: 'The URI as a QR code, SVG' }),
});

export const TotpConfirmBody = Strict({
  setupId: Type.String({ minLength: 1, maxLength: 64 }),
  code: Type.String({ minLength: 1, maxLength: 16, description: 'The 6-digit code the app shows' }),
});

export const SecurityQuestionBody = Strict({
  question: Type.String({ minLength: 1, maxLength: 64, description: 'A question id from GET /v1/security-questions' }),
  answer: Type.String({ minLength: 1, maxLength: ANSWER_MAX_LENGTH }),
});

export const QuestionSchema = Type.Object({ id: Type.String(), text: Type.String() });

export const BackupCodesSchema = Type.Object({ codes: Type.Array(Type.String(), { description: '10 single-use codes, shown this once' }) });

export const PasskeyOptionsSchema = Type.Object({
  setupId: Type.String(),
  options: WebAuthnJson('PublicKeyCredentialCreationOptionsJSON'),
});

export const PasskeyRegisterBody = Strict({
  setupId: Type.String({ minLength: 1, maxLength: 64 }),
  name: Type.String({ minLength: 1, maxLength: 64, description: 'How the member tells their passkeys apart' }),
  response: WebAuthnJson('The attestation as JSON (RegistrationResponseJSON)'),
});

export const PasskeyIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const TypeParams = Type.Object({ type: TypeSchema });
