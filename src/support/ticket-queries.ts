import type { Insertable, Kysely, Selectable } from 'kysely';
import type { CaseStatus, DB, TicketMessagesTable } from '../platform/db/schema.js';

export type TicketMessageRow = Selectable<TicketMessagesTable>;

/** A ticket with its case: what every ticket page and answer starts from. */
export async function findTicket(db: Kysely<DB>, caseId: string) {
  return db
    .selectFrom('support_tickets')
    .innerJoin('support_cases', 'support_cases.id', 'support_tickets.case_id')
    .select([
      'support_cases.id',
      'support_cases.status',
      'support_cases.priority',
      'support_cases.account_id',
      'support_cases.login',
      'support_cases.contact_email',
      'support_cases.created_at',
      'support_cases.updated_at',
      'support_tickets.name',
      'support_tickets.category',
      'support_tickets.subject',
    ])
    .where('support_cases.id', '=', caseId)
    .where('support_cases.kind', '=', 'ticket')
    .executeTakeFirst();
}

export type TicketRow = NonNullable<Awaited<ReturnType<typeof findTicket>>>;

export async function addKey(trx: Kysely<DB>, caseId: string, keyHash: string, now: Date): Promise<void> {
  await trx.insertInto('ticket_keys').values({ case_id: caseId, key_hash: keyHash, created_at: now }).execute();
}

export async function keyHashesOf(db: Kysely<DB>, caseId: string): Promise<string[]> {
  const rows = await db.selectFrom('ticket_keys').select('key_hash').where('case_id', '=', caseId).execute();
  return rows.map((r) => r.key_hash);
}

export async function messagesOf(db: Kysely<DB>, caseId: string): Promise<TicketMessageRow[]> {
  return db.selectFrom('ticket_messages').selectAll().where('case_id', '=', caseId).orderBy('seq').execute();
}

export async function insertMessage(trx: Kysely<DB>, row: Insertable<TicketMessagesTable>): Promise<string> {
  const inserted = await trx.insertInto('ticket_messages').values(row).returning('id').executeTakeFirstOrThrow();
  return inserted.id;
}

/** An e-mailed reply, once per Message-ID: undefined when this message was added before. */
export async function insertEmailedMessage(trx: Kysely<DB>, row: Insertable<TicketMessagesTable>): Promise<string | undefined> {
  const inserted = await trx
    .insertInto('ticket_messages')
    .values(row)
    .onConflict((oc) => oc.columns(['case_id', 'email_message_id']).where('email_message_id', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id;
}

/**
 * Sets a ticket's status unless it is closed (closed is final), in one statement: two
 * changes at once cannot pass a closed ticket. Undefined when nothing was changed.
 */
export async function setStatusUnlessClosed(trx: Kysely<DB>, caseId: string, status: CaseStatus, now: Date) {
  return trx
    .updateTable('support_cases')
    .set({ status, updated_at: now })
    .where('id', '=', caseId)
    .where('kind', '=', 'ticket')
    .where('status', '!=', 'closed')
    .returning(['id', 'status', 'account_id'])
    .executeTakeFirst();
}

/** Links a ticket to the account it is about, once resolved (never overwrites a link). */
export async function linkAccount(trx: Kysely<DB>, caseId: string, accountId: string): Promise<void> {
  await trx.updateTable('support_cases').set({ account_id: accountId }).where('id', '=', caseId).where('account_id', 'is', null).execute();
}
