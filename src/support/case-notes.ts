import type { Kysely } from 'kysely';
import type { DB } from '../platform/db/schema.js';

export interface CaseNoteRow {
  id: string;
  case_id: string;
  author_id: string;
  body: string;
  created_at: Date;
}

export const NOTE_MAX = 5000;

export async function insertNote(db: Kysely<DB>, row: { case_id: string; author_id: string; body: string; created_at: Date }): Promise<CaseNoteRow> {
  return db.insertInto('case_notes').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A case's internal notes, oldest first (they read as a conversation among agents). */
export async function notesOf(db: Kysely<DB>, caseId: string): Promise<CaseNoteRow[]> {
  return db.selectFrom('case_notes').selectAll().where('case_id', '=', caseId).orderBy('created_at', 'asc').orderBy('id').execute();
}
