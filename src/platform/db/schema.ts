// Row types of every table, mirroring migrations/. Generated<> marks columns with defaults.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

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
  subject: string | null;
  body_text: string;
  body_html: string | null;
  status: Generated<OutboxStatus>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  locked_until: Timestamp | null;
  last_error: string | null;
  provider_id: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
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
  created_at: Timestamp;
}

export interface DB {
  accounts: AccountsTable;
  sessions: SessionsTable;
  one_time_tokens: OneTimeTokensTable;
  outbox: OutboxTable;
  dev_messages: DevMessagesTable;
  audit_events: AuditEventsTable;
  rate_limit_counters: RateLimitCountersTable;
  staff_roles: StaffRolesTable;
  service_keys: ServiceKeysTable;
  admin_setup_tokens: AdminSetupTokensTable;
}

export type AccountRow = Selectable<AccountsTable>;
export type NewAccount = Insertable<AccountsTable>;
export type AccountUpdate = Updateable<AccountsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type OutboxRow = Selectable<OutboxTable>;
