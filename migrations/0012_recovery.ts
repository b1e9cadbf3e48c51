import { sql, type Kysely } from 'kysely';

/**
 * Recovery (issue 13): durable jobs (work done after the answer, so known and unknown
 * logins answer alike; later the security-reset waiting period), support cases (compromise
 * reports now, the support desk's queue later) and e-mail changes with their revert window.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE jobs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      kind text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}'::jsonb,
      run_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      locked_until timestamptz,
      last_error text,
      created_at timestamptz NOT NULL,
      done_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE done_at IS NULL`.execute(db);

  await sql`
    CREATE TABLE support_cases (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      kind text NOT NULL,
      priority text NOT NULL,
      status text NOT NULL DEFAULT 'open',
      account_id uuid REFERENCES accounts(id),
      login text,
      contact_email text,
      details text NOT NULL DEFAULT '',
      source text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT support_cases_kind_check CHECK (kind IN ('ticket', 'security_reset', 'compromised')),
      CONSTRAINT support_cases_priority_check CHECK (priority IN ('normal', 'high', 'urgent')),
      CONSTRAINT support_cases_status_check CHECK (status IN ('open', 'pending', 'solved', 'closed'))
    )`.execute(db);
  await sql`CREATE INDEX support_cases_queue_idx ON support_cases (status, priority, created_at)`.execute(db);
  await sql`CREATE INDEX support_cases_account_idx ON support_cases (account_id)`.execute(db);

  await sql`
    CREATE TABLE email_changes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id),
      old_email text NOT NULL,
      new_email text NOT NULL,
      confirm_token_hash text NOT NULL UNIQUE,
      not_me_token_hash text UNIQUE,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      confirmed_at timestamptz,
      reverted_at timestamptz,
      cancelled_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX email_changes_account_idx ON email_changes (account_id, created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE email_changes`.execute(db);
  await sql`DROP TABLE support_cases`.execute(db);
  await sql`DROP TABLE jobs`.execute(db);
}
