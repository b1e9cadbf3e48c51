import { sql, type Kysely } from 'kysely';

/**
 * New-browser notices and suspended methods (issue 12 item 5, issue 13 item 2).
 * known_devices: the browsers an account has signed in from, by an HMAC of the random
 * device cookie (never the cookie itself), one row per account and browser; the primary
 * key decides "first time here" when two sign-ins race.
 * two_step_methods.suspended_at: set when "this wasn't me" or a compromise report locks the
 * account and the method was set up in the 24 hours before; cleared by a confirmation.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE known_devices (
      account_id uuid NOT NULL REFERENCES accounts(id),
      device_hash text NOT NULL,
      first_seen_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      user_agent text,
      PRIMARY KEY (account_id, device_hash)
    )`.execute(db);
  await sql`ALTER TABLE two_step_methods ADD COLUMN suspended_at timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE two_step_methods DROP COLUMN suspended_at`.execute(db);
  await sql`DROP TABLE known_devices`.execute(db);
}
