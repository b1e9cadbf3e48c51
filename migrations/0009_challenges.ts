// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // A challenge stands for "the first factor was right" (or "this session wants to step up"):
  // only a hash of its public id is kept, like a session token's.
  await sql`
    CREATE TABLE challenges (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      token_hash text NOT NULL,
      account_id uuid NOT NULL REFERENCES accounts(id),
      session_id uuid REFERENCES sessions(id),
      purpose text NOT NULL,
      methods text[] NOT NULL,
      reason text NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      passed_at timestamptz,
      passed_method text,
      CONSTRAINT challenges_token_hash_key UNIQUE (token_hash),
      CONSTRAINT challenges_purpose_check CHECK (purpose IN ('login', 'step_up', 'recovery')),
      CONSTRAINT challenges_status_check CHECK (status IN ('pending', 'passed')),
      CONSTRAINT challenges_step_up_session CHECK (purpose <> 'step_up' OR session_id IS NOT NULL)
    )`.execute(db);
  await sql`CREATE INDEX challenges_account_idx ON challenges (account_id, created_at DESC)`.execute(db);

  // The code a challenge sent by one method (e-mail, SMS, call): only its HMAC, its tries
  // counted before comparing, used up by a conditional update.
  await sql`
    CREATE TABLE challenge_codes (
      challenge_id uuid NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,
      method text NOT NULL,
      code_hash text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      sends integer NOT NULL DEFAULT 1,
      sent_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      resend_after timestamptz NOT NULL,
      used_at timestamptz,
      PRIMARY KEY (challenge_id, method)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE challenge_codes`.execute(db);
  await sql`DROP TABLE challenges`.execute(db);
}
