import type { Kysely } from 'kysely';
import type { Clock } from '../platform/clock.js';
import type { CaseKind, CasePriority, CaseStatus, DB } from '../platform/db/schema.js';
import type { Db } from '../platform/db/database.js';
import * as q from './queries.js';
import { CaseDesk } from './desk.js';

export interface NewCase {
  kind: CaseKind;
  priority: CasePriority;
  accountId: string | null;
  login?: string | null;
  contactEmail?: string | null;
  details?: string;
  /** What opened it: 'not_me_link', 'signed_in_report', 'anonymous_report'... */
  source: string;
}

/** The support desk's cases: other domains open them; agents work on them. */
export class SupportService {
  /** The agents' queue, assignment, notes and status changes (desk.ts). */
  readonly desk: CaseDesk;

  constructor(private readonly deps: { db: Db; clock: Clock }) {
    this.desk = new CaseDesk(deps);
  }

  /** Opens a case in the caller's transaction, so it exists exactly when the change that caused it does. */
  async open(trx: Kysely<DB>, input: NewCase): Promise<{ id: string }> {
    const now = this.deps.clock.now();
    const row = await q.insertCase(trx, {
      kind: input.kind,
      priority: input.priority,
      account_id: input.accountId,
      login: input.login ?? null,
      contact_email: input.contactEmail ?? null,
      details: input.details ?? '',
      source: input.source,
      created_at: now,
      updated_at: now,
    });
    return { id: row.id };
  }

  /** A case whose login is looked up after the answer learns its account (security resets). */
  async attachAccount(trx: Kysely<DB>, caseId: string, accountId: string): Promise<void> {
    await q.updateCase(trx, caseId, { account_id: accountId, updated_at: this.deps.clock.now() });
  }

  async setStatus(trx: Kysely<DB>, caseId: string, status: CaseStatus): Promise<void> {
    await q.updateCase(trx, caseId, { status, updated_at: this.deps.clock.now() });
  }

  get(caseId: string) {
    return q.findCase(this.deps.db, caseId);
  }

  casesOf(accountId: string) {
    return q.casesOfAccount(this.deps.db, accountId);
  }
}
