// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE accounts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      email text NOT NULL,
      username text NOT NULL,
      full_name text,
      country char(2) NOT NULL,
      roles text[] NOT NULL,
      password_hash text NOT NULL,
      email_verified_at timestamptz,
      status text NOT NULL DEFAULT 'active',
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      closed_at timestamptz,
      CONSTRAINT accounts_roles_check CHECK (cardinality(roles) >= 1 AND roles <@ ARRAY['freelancer','client','agency']::text[]),
      CONSTRAINT accounts_status_check CHECK (status IN ('active', 'locked', 'closed'))
    )`.execute(db);
  // Usernames are never reused (a freed name could impersonate its old owner);
  // an e-mail is unique among live accounts so a closed account does not block a new one.
  await sql`CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username))`.execute(db);
  await sql`CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email)) WHERE status <> 'closed'`.execute(db);

  await sql`
    CREATE TABLE sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      token_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      elevated_until timestamptz,
      ip text,
      user_agent text,
      revoked_at timestamptz,
      CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
    )`.execute(db);
  await sql`CREATE INDEX sessions_account_idx ON sessions (account_id) WHERE revoked_at IS NULL`.execute(db);

  await sql`
    CREATE TABLE one_time_tokens (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      purpose text NOT NULL,
      token_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      CONSTRAINT one_time_tokens_hash_key UNIQUE (token_hash)
    )`.execute(db);
  await sql`CREATE INDEX one_time_tokens_account_idx ON one_time_tokens (account_id, purpose)`.execute(db);

  await sql`
    CREATE TABLE outbox (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      channel text NOT NULL,
      recipient text NOT NULL,
      template text NOT NULL,
      subject text,
      body_text text NOT NULL,
      body_html text,
      status text NOT NULL DEFAULT 'queued',
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      locked_until timestamptz,
      last_error text,
      provider_id text,
      created_at timestamptz NOT NULL,
      sent_at timestamptz,
      CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'sms', 'voice')),
      CONSTRAINT outbox_status_check CHECK (status IN ('queued', 'processing', 'sent', 'abandoned'))
    )`.execute(db);
  await sql`CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status IN ('queued', 'processing')`.execute(db);

  await sql`
    CREATE TABLE dev_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      idempotency_key text NOT NULL,
      channel text NOT NULL,
      recipient text NOT NULL,
      subject text,
      body text NOT NULL,
      html text,
      created_at timestamptz NOT NULL,
      CONSTRAINT dev_messages_idempotency_key UNIQUE (idempotency_key)
    )`.execute(db);
  await sql`CREATE INDEX dev_messages_recipient_idx ON dev_messages (lower(recipient), created_at DESC)`.execute(db);

  await sql`
    CREATE TABLE audit_events (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid,
      actor_id uuid,
      event text NOT NULL,
      ip text,
      user_agent text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX audit_events_account_idx ON audit_events (account_id, created_at DESC)`.execute(db);
  // Append-only: the database itself refuses to rewrite history.
  await sql`
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`.execute(db);

  await sql`
    CREATE TABLE rate_limit_counters (
      key text PRIMARY KEY,
      count integer NOT NULL,
      expires_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX rate_limit_counters_expires_idx ON rate_limit_counters (expires_at)`.execute(db);

  await sql`
    CREATE TABLE staff_roles (
      account_id uuid NOT NULL REFERENCES accounts(id),
      role text NOT NULL,
      granted_by uuid,
      granted_at timestamptz NOT NULL,
      PRIMARY KEY (account_id, role),
      CONSTRAINT staff_roles_role_check CHECK (role IN ('agent', 'admin'))
    )`.execute(db);

  await sql`
    CREATE TABLE service_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      key_hash text NOT NULL,
      created_by uuid,
      created_at timestamptz NOT NULL,
      last_used_at timestamptz,
      revoked_at timestamptz,
      CONSTRAINT service_keys_hash_key UNIQUE (key_hash)
    )`.execute(db);

  await sql`
    CREATE TABLE admin_setup_tokens (
      id integer PRIMARY KEY DEFAULT 1,
      token_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      CONSTRAINT admin_setup_tokens_single CHECK (id = 1)
    )`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0001_foundation cannot be undone');
}
