// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The verified number of each live account. The row is deleted when the number is removed
  // or the account closes, so "one live account per number" is a plain unique index and the
  // race between two accounts verifying one number is settled by the database.
  await sql`
    CREATE TABLE phone_numbers (
      account_id uuid PRIMARY KEY REFERENCES accounts(id),
      e164 text NOT NULL,
      country char(2),
      line_type text NOT NULL,
      verified_at timestamptz NOT NULL,
      CONSTRAINT phone_numbers_e164_format CHECK (e164 ~ '^\\+[1-9][0-9]{1,14}$')
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX phone_numbers_e164_key ON phone_numbers (e164)`.execute(db);

  // One row per attempt to prove a number. Only an HMAC of the code is kept.
  await sql`
    CREATE TABLE phone_verifications (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      e164 text NOT NULL,
      country char(2),
      line_type text NOT NULL,
      voice_only boolean NOT NULL,
      channel text NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      code_hash text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      sends integer NOT NULL DEFAULT 1,
      streak integer NOT NULL DEFAULT 1,
      outbox_id uuid,
      created_at timestamptz NOT NULL,
      sent_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      resend_after timestamptz NOT NULL,
      finished_at timestamptz,
      CONSTRAINT phone_verifications_channel_check CHECK (channel IN ('sms', 'voice')),
      CONSTRAINT phone_verifications_status_check CHECK (status IN ('pending', 'verified', 'replaced', 'cancelled'))
    )`.execute(db);
  // At most one verification in progress per account: a new one replaces the old.
  await sql`CREATE UNIQUE INDEX phone_verifications_pending_key ON phone_verifications (account_id) WHERE status = 'pending'`.execute(db);
  await sql`CREATE INDEX phone_verifications_e164_idx ON phone_verifications (e164, created_at DESC)`.execute(db);

  // Carrier line-type answers (PHONE_LOOKUP=twilio), cached per number: lookups cost money.
  await sql`
    CREATE TABLE phone_lookups (
      e164 text PRIMARY KEY,
      line_type text,
      carrier_name text,
      looked_up_at timestamptz NOT NULL
    )`.execute(db);

  // Operator-maintained number ranges (E.164 prefixes) treated as VoIP.
  await sql`
    CREATE TABLE phone_voip_ranges (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      prefix text NOT NULL,
      note text,
      created_by uuid,
      created_at timestamptz NOT NULL,
      CONSTRAINT phone_voip_ranges_prefix_key UNIQUE (prefix),
      CONSTRAINT phone_voip_ranges_prefix_format CHECK (prefix ~ '^\\+[1-9][0-9]{0,14}$')
    )`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0002_phone cannot be undone');
}
