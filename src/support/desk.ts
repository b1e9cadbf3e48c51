import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/database.js';
import type { CaseStatus } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import { isUuid } from '../accounts/queries.js';
import { moveStatus, setAssignee } from './assignment.js';
import { STATUS_CHANGES } from './case-status.js';
import { insertNote, notesOf, type CaseNoteRow } from './case-notes.js';
import type { SupportCaseRow } from './queries.js';
import { findCase, listQueue, type QueueFilter } from './queue.js';

/**
 * The agents' side of the support cases: the queue, assignment, internal notes and status.
 * Every change is audited with the agent as the actor, in the transaction that makes it.
 */
export class CaseDesk {
  constructor(private readonly deps: { db: Db; clock: Clock }) {}

  queue(filter: QueueFilter): Promise<SupportCaseRow[]> {
    return listQueue(this.deps.db, filter);
  }

  async get(caseId: string): Promise<SupportCaseRow> {
    const found = isUuid(caseId) ? await findCase(this.deps.db, caseId) : undefined;
    if (!found) throw new AppError('not_found', { detail: 'No such case.' });
    return found;
  }

  notes(caseId: string): Promise<CaseNoteRow[]> {
    return notesOf(this.deps.db, caseId);
  }

  /** Gives the case to `assigneeId` (a staff member the caller has checked) or to nobody (null). */
  async assign(caseId: string, assigneeId: string | null, agentId: string, meta: RequestMeta): Promise<SupportCaseRow> {
    await this.get(caseId);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const done = await setAssignee(trx, caseId, assigneeId, now);
      if (!done) throw new AppError('not_found', { detail: 'No such case.' });
      await recordAudit(trx, now, {
        event: assigneeId ? 'support.case_assigned' : 'support.case_unassigned',
        accountId: done.row.account_id,
        actorId: agentId,
        meta,
        details: { caseId, from: done.before, to: assigneeId },
      });
      return done.row;
    });
  }

  async addNote(caseId: string, body: string, agentId: string, meta: RequestMeta): Promise<CaseNoteRow> {
    const found = await this.get(caseId);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const note = await insertNote(trx, { case_id: caseId, author_id: agentId, body, created_at: now });
      // The note's words stay in the note: the audit says who wrote one, and when.
      await recordAudit(trx, now, { event: 'support.case_note_added', accountId: found.account_id, actorId: agentId, meta, details: { caseId, noteId: note.id } });
      return note;
    });
  }

  /** Moves the case along the status table; a move it does not allow (or a lost race) is 409. */
  async setStatus(caseId: string, to: CaseStatus, agentId: string, meta: RequestMeta): Promise<SupportCaseRow> {
    const found = await this.get(caseId);
    if (found.status === to) return found;
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const moved = await moveStatus(trx, caseId, to, now);
      if (!moved) {
        throw new AppError('status_change_refused', {
          detail: `A ${found.status} case cannot become ${to}. From ${found.status} it can become: ${STATUS_CHANGES[found.status].join(', ')}.`,
        });
      }
      await recordAudit(trx, now, { event: 'support.case_status_changed', accountId: moved.account_id, actorId: agentId, meta, details: { caseId, from: found.status, to } });
      return moved;
    });
  }
}
