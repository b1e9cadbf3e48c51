import { sql, type Kysely } from 'kysely';

/**
 * Every committed change to what a process caches about a signed-in member (issue 15) is
 * announced on the `verity_changes` channel, by the database itself: a code path that
 * forgets to say so cannot exist, and a rolled-back change is never announced (NOTIFY is
 * delivered on commit only). The payload is `account:<id>` or `service_keys`.
 *
 * Sessions announce only what a cache must not keep: revocation and step-up. The
 * once-a-minute last-seen touch is not announced (each process checks idleness itself),
 * and a new session needs no word: no process can hold it yet.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION verity_announce_account() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      id uuid;
    BEGIN
      IF TG_TABLE_NAME = 'accounts' THEN
        id := COALESCE(NEW.id, OLD.id);
      ELSIF TG_OP = 'DELETE' THEN
        id := OLD.account_id;
      ELSE
        id := NEW.account_id;
        IF TG_OP = 'UPDATE' AND OLD.account_id IS DISTINCT FROM NEW.account_id THEN
          PERFORM pg_notify('verity_changes', 'account:' || OLD.account_id);
        END IF;
      END IF;
      IF id IS NOT NULL THEN
        PERFORM pg_notify('verity_changes', 'account:' || id);
      END IF;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION verity_announce_service_keys() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('verity_changes', 'service_keys');
      RETURN NULL;
    END $$`.execute(db);

  await sql`
    CREATE TRIGGER accounts_announce AFTER UPDATE OR DELETE ON accounts
      FOR EACH ROW EXECUTE FUNCTION verity_announce_account()`.execute(db);
  await sql`
    CREATE TRIGGER sessions_announce AFTER UPDATE ON sessions
      FOR EACH ROW
      WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.elevated_until IS DISTINCT FROM NEW.elevated_until
            OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.account_id IS DISTINCT FROM NEW.account_id)
      EXECUTE FUNCTION verity_announce_account()`.execute(db);
  await sql`
    CREATE TRIGGER sessions_announce_delete AFTER DELETE ON sessions
      FOR EACH ROW EXECUTE FUNCTION verity_announce_account()`.execute(db);
  for (const table of ['staff_roles', 'phone_numbers', 'phone_verifications', 'two_step_methods']) {
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_announce`)} AFTER INSERT OR UPDATE OR DELETE ON ${sql.table(table)}
        FOR EACH ROW EXECUTE FUNCTION verity_announce_account()`.execute(db);
  }
  await sql`
    CREATE TRIGGER service_keys_announce AFTER UPDATE OF revoked_at, key_hash, name OR DELETE ON service_keys
      FOR EACH ROW EXECUTE FUNCTION verity_announce_service_keys()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['accounts', 'staff_roles', 'phone_numbers', 'phone_verifications', 'two_step_methods']) {
    await sql`DROP TRIGGER IF EXISTS ${sql.raw(`${table}_announce`)} ON ${sql.table(table)}`.execute(db);
  }
  await sql`DROP TRIGGER IF EXISTS sessions_announce ON sessions`.execute(db);
  await sql`DROP TRIGGER IF EXISTS sessions_announce_delete ON sessions`.execute(db);
  await sql`DROP TRIGGER IF EXISTS service_keys_announce ON service_keys`.execute(db);
  await sql`DROP FUNCTION IF EXISTS verity_announce_account()`.execute(db);
  await sql`DROP FUNCTION IF EXISTS verity_announce_service_keys()`.execute(db);
}
