// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Which two-step methods an account has turned on, one row per type. 2SV is on while the
  // account has a row; the details of each method live in the tables below.
  await sql`
    CREATE TABLE two_step_methods (
      account_id uuid NOT NULL REFERENCES accounts(id),
      type text NOT NULL,
      added_at timestamptz NOT NULL,
      PRIMARY KEY (account_id, type),
      CONSTRAINT two_step_methods_type_check
        CHECK (type IN ('sms', 'voice', 'email', 'totp', 'security_question', 'backup_code', 'passkey'))
    )`.execute(db);

  // Authenticator-app secrets, AES-256-GCM sealed. A row counts once confirmed by a first
  // code; unconfirmed rows are setups in progress. last_used_step makes each time step
  // usable once: it only ever moves forward, by a conditional update.
  await sql`
    CREATE TABLE totp_credentials (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      secret_sealed text NOT NULL,
      created_at timestamptz NOT NULL,
      setup_expires_at timestamptz NOT NULL,
      confirmed_at timestamptz,
      last_used_step bigint
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX totp_credentials_confirmed_key ON totp_credentials (account_id) WHERE confirmed_at IS NOT NULL`.execute(db);
  await sql`CREATE INDEX totp_credentials_account_idx ON totp_credentials (account_id)`.execute(db);

  // Backup codes: only an HMAC each. A code is used up by setting used_at where it is null.
  await sql`
    CREATE TABLE backup_codes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      code_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      used_at timestamptz
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX backup_codes_hash_key ON backup_codes (account_id, code_hash)`.execute(db);

  // The security question: the question's id and an argon2id hash of the normalised answer.
  await sql`
    CREATE TABLE security_answers (
      account_id uuid PRIMARY KEY REFERENCES accounts(id),
      question_id text NOT NULL,
      answer_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`.execute(db);

  // Passkeys and security keys. The credential id is unique across accounts, as WebAuthn says.
  await sql`
    CREATE TABLE passkeys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      credential_id text NOT NULL,
      public_key text NOT NULL,
      counter bigint NOT NULL,
      transports text[] NOT NULL DEFAULT '{}',
      name text NOT NULL,
      created_at timestamptz NOT NULL,
      last_used_at timestamptz
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX passkeys_credential_key ON passkeys (credential_id)`.execute(db);
  await sql`CREATE INDEX passkeys_account_idx ON passkeys (account_id)`.execute(db);

  // WebAuthn ceremonies in progress: the challenge we expect signed back, used at most once.
  // `context` binds an authentication to what asked for it (a sign-in challenge's id).
  await sql`
    CREATE TABLE webauthn_ceremonies (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      kind text NOT NULL,
      context text,
      challenge text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      CONSTRAINT webauthn_ceremonies_kind_check CHECK (kind IN ('registration', 'authentication'))
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX webauthn_ceremonies_challenge_key ON webauthn_ceremonies (challenge)`.execute(db);
  await sql`CREATE INDEX webauthn_ceremonies_account_idx ON webauthn_ceremonies (account_id, created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['webauthn_ceremonies', 'passkeys', 'security_answers', 'backup_codes', 'totp_credentials', 'two_step_methods']) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
