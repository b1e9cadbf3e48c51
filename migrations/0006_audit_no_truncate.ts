// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

/** The audit log refused UPDATE and DELETE row by row; TRUNCATE skips row triggers, so refuse it too. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER audit_events_no_truncate ON audit_events`.execute(db);
}
