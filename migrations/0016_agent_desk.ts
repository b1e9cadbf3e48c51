// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

/**
 * The agents' desk (issue 14): who works on a case (assignee), the agents' internal notes,
 * and "this number is mine now" claims for recycled phone numbers, which open a case of
 * their own kind (phone_claim) in the same queue.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE support_cases ADD COLUMN assignee_id uuid REFERENCES accounts(id)`.execute(db);
  await sql`CREATE INDEX support_cases_assignee_idx ON support_cases (assignee_id)`.execute(db);
  await sql`ALTER TABLE support_cases DROP CONSTRAINT support_cases_kind_check`.execute(db);
  await sql`
    ALTER TABLE support_cases ADD CONSTRAINT support_cases_kind_check
      CHECK (kind IN ('ticket', 'security_reset', 'compromised', 'phone_claim'))`.execute(db);

  await sql`
    CREATE TABLE case_notes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      case_id uuid NOT NULL REFERENCES support_cases(id),
      author_id uuid NOT NULL REFERENCES accounts(id),
      body text NOT NULL,
      created_at timestamptz NOT NULL,
      CONSTRAINT case_notes_body_check CHECK (length(body) BETWEEN 1 AND 5000)
    )`.execute(db);
  await sql`CREATE INDEX case_notes_case_idx ON case_notes (case_id, created_at)`.execute(db);

  await sql`
    CREATE TABLE phone_claims (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      e164 text NOT NULL,
      subscriber text NOT NULL,
      country text,
      status text NOT NULL DEFAULT 'pending',
      code_hash text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      sends integer NOT NULL DEFAULT 1,
      sent_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      resend_after timestamptz NOT NULL,
      case_id uuid REFERENCES support_cases(id),
      holder_id uuid REFERENCES accounts(id),
      created_at timestamptz NOT NULL,
      proven_at timestamptz,
      finished_at timestamptz,
      CONSTRAINT phone_claims_status_check CHECK (status IN ('pending', 'replaced', 'proven', 'released', 'dismissed'))
    )`.execute(db);
  // One code in flight per member, and one open claim per member and line: a double submit opens one case.
  await sql`CREATE UNIQUE INDEX phone_claims_pending_key ON phone_claims (account_id) WHERE status = 'pending'`.execute(db);
  await sql`CREATE UNIQUE INDEX phone_claims_proven_key ON phone_claims (account_id, subscriber) WHERE status = 'proven'`.execute(db);
  await sql`CREATE UNIQUE INDEX phone_claims_case_key ON phone_claims (case_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE phone_claims`.execute(db);
  await sql`DROP TABLE case_notes`.execute(db);
  await sql`DELETE FROM support_cases WHERE kind = 'phone_claim'`.execute(db);
  await sql`ALTER TABLE support_cases DROP CONSTRAINT support_cases_kind_check`.execute(db);
  await sql`
    ALTER TABLE support_cases ADD CONSTRAINT support_cases_kind_check
      CHECK (kind IN ('ticket', 'security_reset', 'compromised'))`.execute(db);
  await sql`ALTER TABLE support_cases DROP COLUMN assignee_id`.execute(db);
}
