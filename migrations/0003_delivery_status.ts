// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

/**
 * What the SMS/voice provider last said about each message it accepted (or refused):
 * one row per outbox message, written by the provider's status callback.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE message_deliveries (
      outbox_id uuid PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
      provider_id text,
      status text NOT NULL,
      provider_status text NOT NULL,
      error_code text,
      updated_at timestamptz NOT NULL,
      CONSTRAINT message_deliveries_provider_id_key UNIQUE (provider_id),
      CONSTRAINT message_deliveries_status_check CHECK (status IN ('queued', 'sent', 'delivered', 'undelivered', 'failed'))
    )`.execute(db);
  // A status callback that names only the provider's id finds its message through this.
  await sql`CREATE INDEX outbox_provider_id_idx ON outbox (provider_id) WHERE provider_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS outbox_provider_id_idx`.execute(db);
  await sql`DROP TABLE IF EXISTS message_deliveries`.execute(db);
}
