// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

/**
 * Message bodies hold live codes and link tokens. From here on the outbox keeps them sealed
 * (AES-GCM under a key from SECRET_KEY) in sealed_body until the message is handed over, then
 * erases them; subject and body columns stay empty for new rows. Bodies of messages already
 * sent or given up are erased now; queued ones keep their plaintext until they are sent.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE outbox ADD COLUMN sealed_body text`.execute(db);
  await sql`ALTER TABLE outbox ALTER COLUMN body_text DROP NOT NULL`.execute(db);
  await sql`UPDATE outbox SET subject = NULL, body_text = NULL, body_html = NULL WHERE status IN ('sent', 'abandoned')`.execute(db);
  // The retention sweep deletes finished messages by age.
  await sql`CREATE INDEX outbox_finished_created_idx ON outbox (created_at) WHERE status IN ('sent', 'abandoned')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS outbox_finished_created_idx`.execute(db);
  await sql`UPDATE outbox SET body_text = '' WHERE body_text IS NULL`.execute(db);
  await sql`ALTER TABLE outbox ALTER COLUMN body_text SET NOT NULL`.execute(db);
  await sql`ALTER TABLE outbox DROP COLUMN sealed_body`.execute(db);
}
