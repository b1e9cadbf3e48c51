import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { DB, SecurityResetNotesTable, SecurityResetsTable, SecurityResetStatus } from '../platform/db/schema.js';

export type ResetRow = Selectable<SecurityResetsTable>;
export type NoteRow = Selectable<SecurityResetNotesTable>;

export async function insertReset(db: Kysely<DB>, row: Insertable<SecurityResetsTable>): Promise<void> {
  await db.insertInto('security_resets').values(row).execute();
}

export async function findReset(db: Kysely<DB>, caseId: string): Promise<ResetRow | undefined> {
  return db.selectFrom('security_resets').selectAll().where('case_id', '=', caseId).executeTakeFirst();
}

/** The request a status link names: its id and its key's hash must both match. */
export async function findByKey(db: Kysely<DB>, caseId: string, keyHash: string): Promise<ResetRow | undefined> {
  return db.selectFrom('security_resets').selectAll().where('case_id', '=', caseId).where('key_hash', '=', keyHash).executeTakeFirst();
}

/**
 * Moves a request from one status to the next only if it is still in `from`: the database
 * decides which of two racing agents (or a cancel and the job) wins. Returns the row, or
 * undefined when another change came first.
 */
export async function transition(
  db: Kysely<DB>,
  caseId: string,
  from: SecurityResetStatus,
  changes: Updateable<SecurityResetsTable> & { status: SecurityResetStatus; updated_at: Date },
  extra: { keyHash?: string; cancelTokenHash?: string; dueBy?: Date; withAccount?: boolean } = {},
): Promise<ResetRow | undefined> {
  let query = db.updateTable('security_resets').set(changes).where('case_id', '=', caseId).where('status', '=', from);
  if (extra.keyHash) query = query.where('key_hash', '=', extra.keyHash);
  if (extra.cancelTokenHash) query = query.where('cancel_token_hash', '=', extra.cancelTokenHash);
  if (extra.dueBy) query = query.where('effective_at', '<=', extra.dueBy);
  if (extra.withAccount) query = query.where('account_id', 'is not', null);
  return query.returningAll().executeTakeFirst();
}

export async function findByCancelToken(db: Kysely<DB>, cancelTokenHash: string): Promise<ResetRow | undefined> {
  return db.selectFrom('security_resets').selectAll().where('cancel_token_hash', '=', cancelTokenHash).executeTakeFirst();
}

/** Approved resets of an account still in their waiting period (a sign-in with 2SV cancels them). */
export async function cancelWaiting(db: Kysely<DB>, accountId: string, now: Date, via: string): Promise<ResetRow[]> {
  return db
    .updateTable('security_resets')
    .set({ status: 'cancelled', cancelled_at: now, cancelled_via: via, updated_at: now })
    .where('account_id', '=', accountId)
    .where('status', '=', 'approved')
    .returningAll()
    .execute();
}

export async function setAccount(db: Kysely<DB>, caseId: string, accountId: string | null, now: Date): Promise<void> {
  await db.updateTable('security_resets').set({ account_id: accountId, matched_at: now }).where('case_id', '=', caseId).execute();
}

export async function resetsOfAccount(db: Kysely<DB>, accountId: string): Promise<ResetRow[]> {
  return db.selectFrom('security_resets').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').execute();
}

export async function addNote(db: Kysely<DB>, note: Insertable<SecurityResetNotesTable>): Promise<void> {
  await db.insertInto('security_reset_notes').values(note).execute();
}

export async function notesOf(db: Kysely<DB>, caseId: string): Promise<NoteRow[]> {
  return db.selectFrom('security_reset_notes').selectAll().where('case_id', '=', caseId).orderBy('seq').execute();
}
