// Row types of every table, mirroring migrations/. Generated<> marks columns with defaults.
import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable, Updateable } from 'kysely';
import type { DeliveryStatus } from '../messaging/delivery.js';

type Timestamp = ColumnType<Date, Date, Date>;
type Json = ColumnType<Record<string, unknown>, string | Record<string, unknown> | undefined, string | Record<string, unknown>>;

export type Role = 'freelancer' | 'client' | 'agency';
export type AccountStatus = 'active' | 'locked' | 'closed';
export type StaffRole = 'agent' | 'admin';
export type Channel = 'email' | 'sms' | 'voice';
export type OutboxStatus = 'queued' | 'processing' | 'sent' | 'abandoned';

export interface AccountsTable {
  id: Generated<string>;
  email: string;
  username: string;
  full_name: string | null;
  country: string;
  roles: Role[];
  password_hash: string;
  email_verified_at: Timestamp | null;
  status: Generated<AccountStatus>;
  created_at: Timestamp;
  updated_at: Timestamp;
  closed_at: Timestamp | null;
}

export interface SessionsTable {
  id: Generated<string>;
  account_id: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  last_seen_at: Timestamp;
  elevated_until: Timestamp | null;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Timestamp | null;
}

export interface OneTimeTokensTable {
  id: Generated<string>;
  account_id: string;
  purpose: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface OutboxTable {
  id: Generated<string>;
  channel: Channel;
  recipient: string;
  template: string;
  /** Empty for messages written since 0008: the subject may carry a code too. */
  subject: string | null;
  /** Plaintext only in rows queued before 0008; erased once the message is sent. */
  body_text: string | null;
  body_html: string | null;
  /** Subject and bodies, sealed (AES-GCM) until the message is handed over (0008). */
  sealed_body: string | null;
  status: Generated<OutboxStatus>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  locked_until: Timestamp | null;
  last_error: string | null;
  provider_id: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
  /** Enqueue order (0005): ties of timestamps still leave first in, first out. */
  seq: GeneratedAlways<number>;
}

/** The provider's latest word on one outbox message (migrations/0003_delivery_status.ts). */
export interface MessageDeliveriesTable {
  outbox_id: string;
  /** Twilio's Message or Call SID; null when the provider refused the message outright. */
  provider_id: string | null;
  status: DeliveryStatus;
  /** The provider's own status word (e.g. 'no-answer'), kept for support and advice. */
  provider_status: string;
  error_code: string | null;
  updated_at: Timestamp;
}

export interface DevMessagesTable {
  id: Generated<string>;
  idempotency_key: string;
  channel: Channel;
  recipient: string;
  subject: string | null;
  body: string;
  html: string | null;
  created_at: Timestamp;
}

export interface AuditEventsTable {
  id: Generated<string>;
  account_id: string | null;
  actor_id: string | null;
  event: string;
  ip: string | null;
  user_agent: string | null;
  details: Json;
  created_at: Timestamp;
}

export interface RateLimitCountersTable {
  key: string;
  count: number;
  expires_at: Timestamp;
}

export interface StaffRolesTable {
  account_id: string;
  role: StaffRole;
  granted_by: string | null;
  granted_at: Timestamp;
}

export interface ServiceKeysTable {
  id: Generated<string>;
  name: string;
  key_hash: string;
  created_by: string | null;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AdminSetupTokensTable {
  id: Generated<number>;
  token_hash: string;
  /** The token is HMAC(SECRET_KEY's token key, nonce), so every process can write it (0019); null in rows from before. */
  nonce: string | null;
  created_at: Timestamp;
}

export type PhoneVerificationStatus = 'pending' | 'verified' | 'replaced' | 'cancelled';

export interface PhoneNumbersTable {
  account_id: string;
  e164: string;
  country: string | null;
  line_type: string;
  verified_at: Timestamp;
  /** The line's canonical key (src/phone/subscriber.ts); null only for lines another account held first (0007). */
  subscriber: string | null;
}

export interface PhoneVerificationsTable {
  id: Generated<string>;
  account_id: string;
  e164: string;
  country: string | null;
  line_type: string;
  voice_only: boolean;
  channel: 'sms' | 'voice';
  status: Generated<PhoneVerificationStatus>;
  code_hash: string;
  attempts: Generated<number>;
  sends: Generated<number>;
  streak: Generated<number>;
  outbox_id: string | null;
  created_at: Timestamp;
  sent_at: Timestamp;
  expires_at: Timestamp;
  resend_after: Timestamp;
  finished_at: Timestamp | null;
}

export interface PhoneLookupsTable {
  e164: string;
  line_type: string | null;
  carrier_name: string | null;
  looked_up_at: Timestamp;
}

export interface PhoneVoipRangesTable {
  id: Generated<string>;
  prefix: string;
  note: string | null;
  created_by: string | null;
  created_at: Timestamp;
  kind: Generated<'voip' | 'm2m'>;
}

/** Help center articles (migrations/0004_help_notices.ts); search columns are generated. */
export interface HelpArticlesTable {
  slug: string;
  title: string;
  summary: string;
  body: string;
  keywords: string[];
  related: string[];
  created_at: Timestamp;
  updated_at: Timestamp;
  updated_by: string | null;
  search_text: ColumnType<string, never, never>;
  search: ColumnType<string, never, never>;
}

export interface HelpVotesTable {
  article_slug: string;
  /** "account:<id>" or "visitor:<id>": one vote per visitor and article. */
  voter: string;
  helpful: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The notice feed as the JSON text it was given; a single row (id 1). */
export interface NoticeFeedTable {
  id: Generated<number>;
  feed: string;
  updated_at: Timestamp;
  updated_by: string | null;
}

/** Notices a member dismissed, by content hash (migrations/0011_notice_dismissals.ts). */
export interface NoticeDismissalsTable {
  account_id: string;
  notice_key: string;
  dismissed_at: Timestamp;
}

/** Two-step verification (migrations/0010_two_step.ts). */
export type TwoStepType = 'sms' | 'voice' | 'email' | 'totp' | 'security_question' | 'backup_code' | 'passkey';

export interface TwoStepMethodsTable {
  account_id: string;
  type: TwoStepType;
  added_at: Timestamp;
  /** Set while a lock for compromise holds the method back until it is confirmed (0013). */
  suspended_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** The browsers an account has signed in from: an HMAC of the device cookie each (0013). */
export interface KnownDevicesTable {
  account_id: string;
  device_hash: string;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  user_agent: string | null;
}

export interface TotpCredentialsTable {
  id: Generated<string>;
  account_id: string;
  secret_sealed: string;
  created_at: Timestamp;
  setup_expires_at: Timestamp;
  confirmed_at: Timestamp | null;
  last_used_step: number | null;
}

export interface BackupCodesTable {
  id: Generated<string>;
  account_id: string;
  code_hash: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface SecurityAnswersTable {
  account_id: string;
  question_id: string;
  answer_hash: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PasskeysTable {
  id: Generated<string>;
  account_id: string;
  credential_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  transports: ColumnType<string[], string[] | undefined, string[]>;
  name: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
}

export interface WebauthnCeremoniesTable {
  id: Generated<string>;
  account_id: string;
  kind: 'registration' | 'authentication';
  context: string | null;
  challenge: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export type ChallengePurpose = 'login' | 'step_up' | 'recovery';

/** migrations/0009_challenges.ts: a pending second step for one account (and maybe one session). */
export interface ChallengesTable {
  id: Generated<string>;
  token_hash: string;
  account_id: string;
  session_id: string | null;
  purpose: ChallengePurpose;
  methods: string[];
  /** Why it was asked for: 'two_step' (2SV on), 'many_failures' (the account is under attack), 'step_up', 'recovery'. */
  reason: string;
  status: Generated<'pending' | 'passed'>;
  created_at: Timestamp;
  expires_at: Timestamp;
  passed_at: Timestamp | null;
  passed_method: string | null;
}

export interface ChallengeCodesTable {
  challenge_id: string;
  method: string;
  code_hash: string;
  attempts: Generated<number>;
  sends: Generated<number>;
  sent_at: Timestamp;
  expires_at: Timestamp;
  resend_after: Timestamp;
  used_at: Timestamp | null;
}

/** Durable work run after a request or at a time (migrations/0012_recovery.ts). */
export interface JobsTable {
  id: Generated<string>;
  kind: string;
  payload: Json;
  run_at: Timestamp;
  attempts: Generated<number>;
  locked_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
  done_at: Timestamp | null;
}

export type CaseKind = 'ticket' | 'security_reset' | 'compromised' | 'phone_claim';
export type CasePriority = 'normal' | 'high' | 'urgent';
export type CaseStatus = 'open' | 'pending' | 'solved' | 'closed';

/** What the support desk works on (0012): compromise reports now, tickets and resets later. */
export interface SupportCasesTable {
  id: Generated<string>;
  kind: CaseKind;
  priority: CasePriority;
  status: Generated<CaseStatus>;
  account_id: string | null;
  login: string | null;
  contact_email: string | null;
  details: Generated<string>;
  source: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** The agent working on it (0016). */
  assignee_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** An agent's internal note on a case; never shown to the member (0016). */
export interface CaseNotesTable {
  id: Generated<string>;
  case_id: string;
  author_id: string;
  body: string;
  created_at: Timestamp;
}

export type PhoneClaimStatus = 'pending' | 'replaced' | 'proven' | 'released' | 'dismissed';

/** "This number is mine now": a member proves they hold a line verified on another account (0016). */
export interface PhoneClaimsTable {
  id: Generated<string>;
  account_id: string;
  e164: string;
  subscriber: string;
  country: string | null;
  status: Generated<PhoneClaimStatus>;
  code_hash: string;
  attempts: Generated<number>;
  sends: Generated<number>;
  sent_at: Timestamp;
  expires_at: Timestamp;
  resend_after: Timestamp;
  case_id: string | null;
  holder_id: string | null;
  created_at: Timestamp;
  proven_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export type TicketCategory = 'login' | 'account_recovery' | 'phone_verification' | 'compromised' | 'billing' | 'other';

/** What only a ticket has, beside its support_cases row (0014). */
export interface SupportTicketsTable {
  case_id: string;
  name: string;
  category: TicketCategory;
  subject: string;
}

/** The requester's keys to a ticket's page, as HMACs (0014): one per e-mail sent. */
export interface TicketKeysTable {
  key_hash: string;
  case_id: string;
  created_at: Timestamp;
}

/** One message of a ticket's conversation (0014); `sender_name` is what the requester sees. */
export interface TicketMessagesTable {
  id: Generated<string>;
  seq: GeneratedAlways<number>;
  case_id: string;
  author: 'requester' | 'agent';
  agent_id: string | null;
  sender_name: string;
  body: string;
  via: 'web' | 'api' | 'email';
  email_message_id: string | null;
  created_at: Timestamp;
}

/** A change of e-mail address, confirmed by the new one, revertible from the old (0012). */
export interface EmailChangesTable {
  id: Generated<string>;
  account_id: string;
  old_email: string;
  new_email: string;
  confirm_token_hash: string;
  not_me_token_hash: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  confirmed_at: Timestamp | null;
  reverted_at: Timestamp | null;
  cancelled_at: Timestamp | null;
}

export interface DB {
  accounts: AccountsTable;
  sessions: SessionsTable;
  one_time_tokens: OneTimeTokensTable;
  outbox: OutboxTable;
  message_deliveries: MessageDeliveriesTable;
  dev_messages: DevMessagesTable;
  audit_events: AuditEventsTable;
  rate_limit_counters: RateLimitCountersTable;
  staff_roles: StaffRolesTable;
  service_keys: ServiceKeysTable;
  admin_setup_tokens: AdminSetupTokensTable;
  help_articles: HelpArticlesTable;
  help_votes: HelpVotesTable;
  notice_feed: NoticeFeedTable;
  notice_dismissals: NoticeDismissalsTable;
  phone_numbers: PhoneNumbersTable;
  phone_verifications: PhoneVerificationsTable;
  phone_lookups: PhoneLookupsTable;
  phone_voip_ranges: PhoneVoipRangesTable;
  two_step_methods: TwoStepMethodsTable;
  totp_credentials: TotpCredentialsTable;
  backup_codes: BackupCodesTable;
  security_answers: SecurityAnswersTable;
  passkeys: PasskeysTable;
  webauthn_ceremonies: WebauthnCeremoniesTable;
  challenges: ChallengesTable;
  challenge_codes: ChallengeCodesTable;
  jobs: JobsTable;
  support_cases: SupportCasesTable;
  case_notes: CaseNotesTable;
  phone_claims: PhoneClaimsTable;
  email_changes: EmailChangesTable;
  support_tickets: SupportTicketsTable;
  ticket_messages: TicketMessagesTable;
  ticket_keys: TicketKeysTable;
  security_resets: SecurityResetsTable;
  security_reset_notes: SecurityResetNotesTable;
  known_devices: KnownDevicesTable;
}

export type SecurityResetStatus = 'pending_review' | 'more_info_needed' | 'approved' | 'denied' | 'cancelled' | 'completed';

/** A lost-phone security reset: one support case of kind security_reset (0015). */
export interface SecurityResetsTable {
  case_id: string;
  account_id: string | null;
  login: string;
  full_name: string;
  contact_email: string;
  old_phone_digits: string | null;
  country: string | null;
  key_hash: string;
  /** The status link's key, sealed with the encryption key, so each e-mail can carry the link. */
  key_sealed: string;
  status: Generated<SecurityResetStatus>;
  matched_at: Timestamp | null;
  decided_at: Timestamp | null;
  decided_by: string | null;
  decision_note: string | null;
  effective_at: Timestamp | null;
  cancel_token_hash: string | null;
  cancelled_at: Timestamp | null;
  cancelled_via: string | null;
  applied_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** What the agent asked, what the requester added, and each decision's note (0015). */
export interface SecurityResetNotesTable {
  id: Generated<string>;
  seq: Generated<number>;
  case_id: string;
  author: 'agent' | 'requester' | 'system';
  kind: string;
  body: string;
  actor_id: string | null;
  created_at: Timestamp;
}

export type AccountRow = Selectable<AccountsTable>;
/** An account as requests carry it: without the password hash (sessions/queries.ts). */
export type MemberAccount = Omit<AccountRow, 'password_hash'>;
export type NewAccount = Insertable<AccountsTable>;
export type AccountUpdate = Updateable<AccountsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type PhoneNumberRow = Selectable<PhoneNumbersTable>;
export type PhoneVerificationRow = Selectable<PhoneVerificationsTable>;
export type ChallengeRow = Selectable<ChallengesTable>;
export type ChallengeCodeRow = Selectable<ChallengeCodesTable>;
