// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from 'kysely';

/**
 * One verified number per subscriber, not per string of digits. Some countries write one line
 * two ways: Argentina's mobiles are +54 9 11 xxxx xxxx in international form and +54 11 xxxx
 * xxxx without the 9; Mexico's old +52 1 mobile prefix reaches the same line as +52 without
 * it. `subscriber` is the line's canonical key (the digits without that prefix) and is unique.
 *
 * The rules are copied here as SQL on purpose: this file is frozen, while the app's copy
 * (src/phone/subscriber.ts) may grow.
 *
 * Existing rows are backfilled. Where two accounts already hold one line, the earlier
 * verification keeps the key; the later keeps its number (numbers already verified stay
 * verified, as with VoIP ranges) but no key, and an audit event names it for support.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE phone_numbers ADD COLUMN subscriber text`.execute(db);
  await sql`
    ALTER TABLE phone_numbers ADD CONSTRAINT phone_numbers_subscriber_format
      CHECK (subscriber ~ '^\\+[1-9][0-9]{1,14}$')`.execute(db);
  await sql`
    UPDATE phone_numbers SET subscriber = CASE
      WHEN e164 ~ '^\\+549[0-9]{10}$' THEN '+54' || substr(e164, 5)
      WHEN e164 ~ '^\\+521[0-9]{10}$' THEN '+52' || substr(e164, 5)
      ELSE e164 END`.execute(db);
  await sql`
    WITH later AS (
      UPDATE phone_numbers p SET subscriber = NULL
      WHERE EXISTS (
        SELECT 1 FROM phone_numbers o
        WHERE o.subscriber = p.subscriber AND (o.verified_at, o.account_id) < (p.verified_at, p.account_id))
      RETURNING p.account_id, p.e164, p.verified_at)
    INSERT INTO audit_events (account_id, event, details, created_at)
    SELECT account_id, 'phone.subscriber_shared',
      jsonb_build_object('number', e164, 'verifiedAt', verified_at, 'reason', 'another account verified this line first in another form'),
      now()
    FROM later`.execute(db);
  await sql`CREATE UNIQUE INDEX phone_numbers_subscriber_key ON phone_numbers (subscriber)`.execute(db);

  // Operators' ranges get a kind: VoIP (as before) or machine-to-machine. M2M numbers are
  // issued to devices (meters, cars, alarms), not to people, so they cannot prove a person.
  await sql`
    ALTER TABLE phone_voip_ranges ADD COLUMN kind text NOT NULL DEFAULT 'voip'
      CONSTRAINT phone_voip_ranges_kind_check CHECK (kind IN ('voip', 'm2m'))`.execute(db);
  // Defaults that national plans reserve for M2M. Only +3197 passes libphonenumber's plan
  // today (as mobile); the others are listed so that a plan update cannot let them through.
  // An operator may remove any of them.
  await sql`
    INSERT INTO phone_voip_ranges (prefix, note, kind, created_by, created_at) VALUES
      ('+3197', 'Default: Netherlands 097, machine-to-machine', 'm2m', NULL, now()),
      ('+4671', 'Default: Sweden 071, telematics and machine-to-machine', 'm2m', NULL, now()),
      ('+4758', 'Default: Norway 58, machine-to-machine (12 digits)', 'm2m', NULL, now()),
      ('+33700', 'Default: France 0700, machine-to-machine (14 digits)', 'm2m', NULL, now())
    ON CONFLICT (prefix) DO NOTHING`.execute(db);
}

/** Undoes the schema change (the audit events stay: the log is append-only). */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM phone_voip_ranges WHERE kind = 'm2m'`.execute(db);
  await sql`ALTER TABLE phone_voip_ranges DROP COLUMN kind`.execute(db);
  await sql`DROP INDEX phone_numbers_subscriber_key`.execute(db);
  await sql`ALTER TABLE phone_numbers DROP COLUMN subscriber`.execute(db);
}
