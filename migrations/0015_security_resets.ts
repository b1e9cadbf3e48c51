import { sql, type Kysely } from 'kysely';

/**
 * The lost-phone security reset (issue 14): a support case of kind security_reset with its
 * own row here (the request, the decision, the waiting period; the status link's key is kept
 * hashed for lookup and sealed so later e-mails can carry the link again) and a thread of what the
 * agent asked and the requester added. The reset itself is applied by a job at effective_at.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE security_resets (
      case_id uuid PRIMARY KEY REFERENCES support_cases(id),
      account_id uuid REFERENCES accounts(id),
      login text NOT NULL,
      full_name text NOT NULL,
      contact_email text NOT NULL,
      old_phone_digits text,
      country text,
      key_hash text NOT NULL UNIQUE,
      key_sealed text NOT NULL,
      status text NOT NULL DEFAULT 'pending_review',
      matched_at timestamptz,
      decided_at timestamptz,
      decided_by uuid REFERENCES accounts(id),
      decision_note text,
      effective_at timestamptz,
      cancel_token_hash text UNIQUE,
      cancelled_at timestamptz,
      cancelled_via text,
      applied_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT security_resets_status_check CHECK (status IN ('pending_review', 'more_info_needed', 'approved', 'denied', 'cancelled', 'completed'))
    )`.execute(db);
  await sql`CREATE INDEX security_resets_account_idx ON security_resets (account_id, status)`.execute(db);

  await sql`
    CREATE TABLE security_reset_notes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      seq bigint GENERATED ALWAYS AS IDENTITY,
      case_id uuid NOT NULL REFERENCES security_resets(case_id),
      author text NOT NULL,
      kind text NOT NULL,
      body text NOT NULL,
      actor_id uuid REFERENCES accounts(id),
      created_at timestamptz NOT NULL,
      CONSTRAINT security_reset_notes_author_check CHECK (author IN ('agent', 'requester', 'system'))
    )`.execute(db);
  await sql`CREATE INDEX security_reset_notes_case_idx ON security_reset_notes (case_id, seq)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE security_reset_notes`.execute(db);
  await sql`DROP TABLE security_resets`.execute(db);
}
