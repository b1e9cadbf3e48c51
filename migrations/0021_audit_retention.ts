import { sql, type Kysely } from 'kysely';

/**
 * Audit retention (issue 15 item 5). The audit log stays append-only, except that rows older
 * than a cutoff may be deleted by a transaction that names the cutoff
 * (set_config('verity.audit_purge_before', …, true)), which only the retention sweep does
 * (src/platform/audit.ts purgeAudit). UPDATE and TRUNCATE are still refused, and so is a
 * DELETE without the cutoff or of a row newer than it. The index serves the sweep, which
 * deletes the oldest rows first in small batches.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX audit_events_created_idx ON audit_events (created_at)`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      cutoff text;
    BEGIN
      IF TG_OP = 'DELETE' THEN
        cutoff := current_setting('verity.audit_purge_before', true);
        IF cutoff IS NOT NULL AND cutoff <> '' AND OLD.created_at < cutoff::timestamptz THEN
          RETURN OLD;
        END IF;
      END IF;
      RAISE EXCEPTION 'audit_events is append-only';
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only';
    END $$`.execute(db);
  await sql`DROP INDEX IF EXISTS audit_events_created_idx`.execute(db);
}
