import { Type } from 'typebox';
import { EMAIL_MAX } from '../accounts/rules.js';
import { Strict } from '../platform/web/schemas.js';

/** Shared by the API and the pages, so each limit is written once. */
export const DETAILS_MAX = 5000;
export const NOTE_MAX = 2000;

export const ResetRequestBody = Strict({
  login: Type.String({ minLength: 1, maxLength: 320, description: 'Username or e-mail of the account' }),
  fullName: Type.String({ minLength: 1, maxLength: 200, description: 'Your full name, as on the account' }),
  contactEmail: Type.String({ minLength: 3, maxLength: EMAIL_MAX, description: 'Where we send the status link and our answers' }),
  details: Type.String({ minLength: 1, maxLength: DETAILS_MAX, description: 'What happened' }),
  oldPhoneDigits: Type.Optional(Type.String({ pattern: '^[0-9]{0,6}$', description: 'The last digits (up to 6) of the phone number you lost' })),
  country: Type.Optional(Type.String({ pattern: '^([A-Za-z]{2})?$', description: 'ISO 3166-1 alpha-2 country of the account' })),
});

export const ResetParams = Type.Object({ requestId: Type.String({ minLength: 1, maxLength: 64 }) });
export const KeyQuery = Type.Object({ key: Type.String({ minLength: 1, maxLength: 200 }) });
export const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
export const CaseParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const InfoBody = Strict({ details: Type.String({ minLength: 1, maxLength: DETAILS_MAX, description: 'What the agent asked for' }) });

export const DECISIONS = ['approve', 'deny', 'request_info'] as const;
export type Decision = (typeof DECISIONS)[number];
export const DecisionBody = Strict({
  decision: Type.Union([Type.Literal('approve'), Type.Literal('deny'), Type.Literal('request_info')]),
  note: Type.String({ minLength: 1, maxLength: NOTE_MAX, description: 'Shown to the requester, in the e-mail and on the status page' }),
});

export const ResetStatus = Type.Union([
  Type.Literal('pending_review'),
  Type.Literal('more_info_needed'),
  Type.Literal('approved'),
  Type.Literal('denied'),
  Type.Literal('cancelled'),
  Type.Literal('completed'),
]);

export const StatusView = Type.Object({
  requestId: Type.String(),
  status: ResetStatus,
  effectiveAt: Type.Optional(Type.String()),
  createdAt: Type.String(),
  messages: Type.Array(Type.Object({ from: Type.Union([Type.Literal('agent'), Type.Literal('you'), Type.Literal('verity')]), kind: Type.String(), body: Type.String(), at: Type.String() })),
});
