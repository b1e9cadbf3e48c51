import { TypeSchema } from '../twostep/schemas.js';
import { Type } from 'typebox';
import { IsoTime, Strict } from '../platform/web/schemas.js';
import { CASE_KINDS, CASE_PRIORITIES, CASE_STATUSES } from '../support/queue.js';
import { NOTE_MAX } from '../support/case-notes.js';

export const KindSchema = Type.Union([Type.Literal('ticket'), Type.Literal('security_reset'), Type.Literal('compromised'), Type.Literal('phone_claim')]);
export const StatusSchema = Type.Union([Type.Literal('open'), Type.Literal('pending'), Type.Literal('solved'), Type.Literal('closed')]);
export const PrioritySchema = Type.Union([Type.Literal('urgent'), Type.Literal('high'), Type.Literal('normal')]);
// The lists the page's filters offer, in the same order (support/queue.ts).
export const FILTER_CHOICES = { kind: CASE_KINDS, status: CASE_STATUSES, priority: CASE_PRIORITIES } as const;

/** The queue's filters; each blank or absent means "any" (status: open and pending; "all" for every status). */
export const QueueQuery = Type.Object(
  {
    kind: Type.Optional(Type.Union([KindSchema, Type.Literal('')])),
    status: Type.Optional(Type.Union([StatusSchema, Type.Literal('all'), Type.Literal('')])),
    priority: Type.Optional(Type.Union([PrioritySchema, Type.Literal('')])),
    assignee: Type.Optional(Type.String({ maxLength: 64, description: "'me', 'none' (nobody has taken it) or an agent's account id" })),
  },
  { additionalProperties: false },
);

export const CaseParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const AssignBody = Strict({
  assigneeId: Type.String({ minLength: 1, maxLength: 64, description: "'me', 'none' (unassign) or an agent's account id" }),
});

export const NoteBody = Strict({ note: Type.String({ minLength: 1, maxLength: NOTE_MAX, description: 'An internal note: agents only, never shown to the member' }) });

export const CaseStatusBody = Strict({ status: StatusSchema });

export const ReasonBody = Strict({ reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why: kept in the audit log with your id' }) });

const Brief = Type.Object({ id: Type.String(), username: Type.String() }, { additionalProperties: false });

export const QueueItemSchema = Type.Object(
  {
    id: Type.String(),
    kind: KindSchema,
    priority: PrioritySchema,
    status: StatusSchema,
    createdAt: IsoTime,
    account: Type.Optional(Brief),
    assignee: Type.Optional(Brief),
  },
  { additionalProperties: false },
);

export const NoteSchema = Type.Object({ id: Type.String(), note: Type.String(), author: Type.Optional(Brief), createdAt: IsoTime }, { additionalProperties: false });

export const CaseSchema = Type.Object(
  {
    id: Type.String(),
    kind: KindSchema,
    priority: PrioritySchema,
    status: StatusSchema,
    createdAt: IsoTime,
    updatedAt: IsoTime,
    account: Type.Optional(Brief),
    assignee: Type.Optional(Brief),
    login: Type.Union([Type.String(), Type.Null()]),
    contactEmail: Type.Union([Type.String(), Type.Null()]),
    details: Type.String(),
    source: Type.String(),
    page: Type.String({ description: 'The page where this kind of case is worked on' }),
    statusSettable: Type.Boolean({ description: 'Whether PATCH /v1/agent/cases/{id} may set its status (compromise and phone-number cases)' }),
    notes: Type.Array(NoteSchema),
    claim: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Phone-number claims: the number, and the holding account with its last activity' })),
  },
  { additionalProperties: false },
);

export const AccountHistorySchema = Type.Object(
  {
    account: Type.Object({}, { additionalProperties: true }),
    phone: Type.Union([Type.Object({ number: Type.String(), verifiedAt: IsoTime }), Type.Null()]),
    twoStep: Type.Object({}, { additionalProperties: true }),
    signIns: Type.Array(Type.Object({}, { additionalProperties: true })),
    changes: Type.Array(Type.Object({}, { additionalProperties: true })),
    sessions: Type.Array(Type.Object({}, { additionalProperties: true })),
    lastActiveAt: Type.Union([IsoTime, Type.Null()]),
    dormant: Type.Boolean(),
    cases: Type.Array(Type.Object({}, { additionalProperties: true })),
    openCompromiseReports: Type.Array(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

export const TwoStepParams = Type.Object({
  id: Type.String({ maxLength: 64 }),
  type: TypeSchema,
});
export const ConfirmResultSchema = Type.Object({ status: Type.Literal('confirmed') });
export const LockResultSchema = Type.Object({ status: Type.String({ description: 'The account status now: active, locked or closed' }) });
