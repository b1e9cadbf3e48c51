// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

/**
 * The notices a member has put away. A notice is named by a hash of its content (icon and
 * text), so a changed notice has a new key and shows again. Rows of notices that left the
 * feed are pruned by the next dismissal of the same member.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE notice_dismissals (
      account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      notice_key text NOT NULL,
      dismissed_at timestamptz NOT NULL,
      CONSTRAINT notice_dismissals_pkey PRIMARY KEY (account_id, notice_key),
      CONSTRAINT notice_dismissals_key_check CHECK (notice_key ~ '^[0-9a-f]{16}$')
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE notice_dismissals`.execute(db);
}
