import { Type } from 'typebox';
import { IsoTime, Strict } from '../platform/web/schemas.js';
import { PHONE_INPUT_MAX } from './parse.js';

const ChannelSchema = Type.Union([Type.Literal('sms'), Type.Literal('voice')]);

// Lengths bound the work done before the service reads the input in full.
export const StartBody = Strict({
  phone: Type.String({ minLength: 1, maxLength: PHONE_INPUT_MAX, description: 'International (+63 917 123 4567) or national (0917 123 4567) with country' }),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country of a national number; default the account country' })),
  channel: Type.Optional(ChannelSchema),
});

export const ResendBody = Strict({ channel: Type.Optional(ChannelSchema) });
export const VerifyBody = Strict({ code: Type.String({ minLength: 1, maxLength: 16, description: 'The 6-digit code' }) });

export const VerificationSchema = Type.Object(
  {
    id: Type.String(),
    phone: Type.String({ description: 'E.164' }),
    channel: ChannelSchema,
    expiresAt: IsoTime,
    resendAfter: IsoTime,
    attemptsLeft: Type.Integer(),
    sendsLeft: Type.Integer(),
    notice: Type.Optional(Type.String({ description: 'Why another channel than asked was used (landlines get a call)' })),
  },
  { additionalProperties: true },
);

const DeliverySchema = Type.Object(
  {
    status: Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('delivered'), Type.Literal('undelivered'), Type.Literal('failed')]),
    updatedAt: IsoTime,
    advice: Type.String(),
  },
  { additionalProperties: true },
);

export const PhoneStatusSchema = Type.Object(
  {
    number: Type.Union([Type.String(), Type.Null()]),
    verified: Type.Boolean(),
    verifiedAt: Type.Union([IsoTime, Type.Null()]),
    pending: Type.Union([
      Type.Object(
        {
          channel: ChannelSchema,
          expiresAt: IsoTime,
          resendAfter: IsoTime,
          attemptsLeft: Type.Integer(),
          delivery: Type.Union([DeliverySchema, Type.Null()]),
        },
        { additionalProperties: true },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: true },
);

export const VerifiedPhoneSchema = Type.Object({
  phone: Type.Object({ number: Type.String(), verified: Type.Literal(true), verifiedAt: IsoTime }),
});

const RangeKindSchema = Type.Union([Type.Literal('voip'), Type.Literal('m2m')], {
  description: 'voip: refused as phone_voip; m2m (machine-to-machine, devices): refused as phone_type_unsupported with lineType M2M',
});

export const VoipRangeSchema = Type.Object({
  id: Type.String(),
  prefix: Type.String(),
  kind: RangeKindSchema,
  note: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTime,
  createdBy: Type.Union([Type.String(), Type.Null()]),
});

export const VoipRangeBody = Strict({
  prefix: Type.String({ minLength: 2, maxLength: 24, description: 'E.164 prefix, e.g. +4478930' }),
  kind: Type.Optional(RangeKindSchema),
  note: Type.Optional(Type.String({ maxLength: 200 })),
});

/** "This number is mine now": the number that was refused with phone_in_use. */
export const ClaimStartBody = Strict({
  phone: Type.String({ minLength: 1, maxLength: PHONE_INPUT_MAX, description: 'The number verified on another account that you hold now' }),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country of a national number; default the account country' })),
});

export const ClaimSchema = Type.Object(
  { id: Type.String(), phone: Type.String({ description: 'E.164' }), expiresAt: IsoTime, resendAfter: IsoTime, attemptsLeft: Type.Integer() },
  { additionalProperties: false },
);
