import { Type } from 'typebox';
import { EMAIL_MAX, FULL_NAME_MAX } from '../accounts/rules.js';
import { IsoTime, Strict } from '../platform/web/schemas.js';

/** Shared by the API and the support pages, so each limit is written once. */
export const CATEGORIES = ['login', 'account_recovery', 'phone_verification', 'compromised', 'billing', 'other'] as const;
export const SUBJECT_MAX = 200;
export const MESSAGE_MAX = 10_000;

/** What the contact form and its pages call each category. */
export const categoryLabels: Record<(typeof CATEGORIES)[number], string> = {
  login: 'Signing in',
  account_recovery: 'Getting back into my account',
  phone_verification: 'Phone verification',
  compromised: 'Someone else is using my account',
  billing: 'Billing and payments',
  other: 'Something else',
};

const Message = Type.String({ minLength: 1, maxLength: MESSAGE_MAX });
export const Status = Type.Union([Type.Literal('open'), Type.Literal('pending'), Type.Literal('solved'), Type.Literal('closed')]);

export const NewTicketBody = Strict({
  email: Type.String({ minLength: 1, maxLength: EMAIL_MAX, description: 'Where our answers go' }),
  name: Type.String({ minLength: 1, maxLength: FULL_NAME_MAX }),
  category: Type.Union([Type.Literal('login'), Type.Literal('account_recovery'), Type.Literal('phone_verification'), Type.Literal('compromised'), Type.Literal('billing'), Type.Literal('other')]),
  subject: Type.String({ minLength: 1, maxLength: SUBJECT_MAX }),
  message: Message,
  login: Type.Optional(Type.String({ maxLength: EMAIL_MAX, description: 'Username or e-mail of the account it is about' })),
});
export const MessageBody = Strict({ message: Message });
export const AgentMessageBody = Strict({ message: Message, status: Type.Optional(Status) });
export const StatusBody = Strict({ status: Status });

export const TicketParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const KeyQuery = Type.Object({ key: Type.String({ minLength: 1, maxLength: 200 }) });

export const Created = Type.Object({ ticketId: Type.String(), key: Type.String(), status: Type.Literal('open') });
export const MemberView = Type.Object({
  id: Type.String(),
  status: Status,
  subject: Type.String(),
  category: Type.String(),
  createdAt: IsoTime,
  messages: Type.Array(Type.Object({ author: Type.Union([Type.Literal('requester'), Type.Literal('agent')]), from: Type.String(), body: Type.String(), createdAt: IsoTime })),
});

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
export const AgentView = Type.Object({
  id: Type.String(),
  status: Status,
  priority: Type.String(),
  category: Type.String(),
  subject: Type.String(),
  name: Type.String(),
  email: Nullable(Type.String()),
  login: Nullable(Type.String({ description: 'The login the requester typed, as typed' })),
  account: Type.Union([Type.Object({ id: Type.String(), username: Type.String(), email: Type.String(), status: Type.String() }), Type.Null()], {
    description: 'The live account that login (or else the e-mail) names, looked up after the answer; null when none',
  }),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  messages: Type.Array(
    Type.Object({
      id: Type.String(),
      author: Type.Union([Type.Literal('requester'), Type.Literal('agent')]),
      from: Type.String({ description: 'The name the requester sees' }),
      agentId: Nullable(Type.String()),
      body: Type.String(),
      via: Type.String({ description: 'web, api or email' }),
      createdAt: IsoTime,
    }),
  ),
});

/** What a mail provider's inbound webhook hands over, parsed (Postmark, SendGrid, Mailgun all can). */
export const InboundEmailBody = Strict({
  recipient: Type.String({ minLength: 1, maxLength: 4000, description: 'The To (and Cc) addresses as received' }),
  sender: Type.Optional(Type.String({ maxLength: 1000, description: 'The From address: not trusted (anyone can write it); the reply address is the proof' })),
  subject: Type.Optional(Type.String({ maxLength: 1000 })),
  text: Type.String({ maxLength: 200_000, description: 'The plain-text body, quoted history and all' }),
  messageId: Type.Optional(Type.String({ maxLength: 1000, description: 'The Message-ID header: a second delivery of one message is recognised' })),
});
