import { Type } from 'typebox';
import { AccountSchema, SessionTokenSchema } from '../accounts/schemas.js';
import { Strict } from '../platform/web/schemas.js';

/** The method types of methods.ts (spelled out: a mapped union loses its static type). */
const MethodTypeSchema = Type.Union([
  Type.Literal('sms'),
  Type.Literal('voice'),
  Type.Literal('email'),
  Type.Literal('totp'),
  Type.Literal('security_question'),
  Type.Literal('backup_code'),
  Type.Literal('passkey'),
  Type.Literal('password'),
]);

export const ChallengeSchema = Type.Object(
  {
    id: Type.String({ description: 'A bearer secret: whoever holds it may try to pass the challenge' }),
    purpose: Type.Union([Type.Literal('login'), Type.Literal('step_up'), Type.Literal('recovery')]),
    methods: Type.Array(
      Type.Object({ type: MethodTypeSchema, hint: Type.Optional(Type.String()), question: Type.Optional(Type.String()) }, { additionalProperties: true }),
    ),
    expiresAt: Type.String(),
  },
  { additionalProperties: true },
);

export const ChallengeParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const SendBody = Strict({ method: MethodTypeSchema });

export const VerifyBody = Strict({
  method: MethodTypeSchema,
  code: Type.Optional(Type.String({ maxLength: 64 })),
  answer: Type.Optional(Type.String({ maxLength: 1024 })),
  password: Type.Optional(Type.String({ maxLength: 1024, description: 'The password (step-up of an account without 2SV)' })),
  response: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'The WebAuthn assertion as JSON (passkey)' })),
});

export const SendResponse = Type.Object({ resendAfter: Type.String() }, { additionalProperties: true });
export const OptionsResponse = Type.Object({ options: Type.Unknown() }, { additionalProperties: true });

export const VerifyResponse = Type.Union([
  Type.Object({ status: Type.Literal('authenticated'), session: SessionTokenSchema, account: AccountSchema }, { additionalProperties: true }),
  Type.Object({ elevatedUntil: Type.String() }, { additionalProperties: true }),
  Type.Object({ status: Type.Literal('verified') }, { additionalProperties: true }),
]);
