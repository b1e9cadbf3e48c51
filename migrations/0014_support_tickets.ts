import { sql, type Kysely } from 'kysely';

/**
 * Support tickets (issue 14): a ticket is a support_cases row of kind 'ticket' (its status,
 * priority and account link live there, shared with the agents' queue); these tables hold
 * what only a ticket has. The requester's keys are kept as HMACs only: the first comes with
 * the answer, and each e-mail to the requester carries a fresh one (the first is not known
 * to us any more), all opening the same page.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE support_tickets (
      case_id uuid PRIMARY KEY REFERENCES support_cases(id),
      name text NOT NULL,
      category text NOT NULL,
      subject text NOT NULL,
      CONSTRAINT support_tickets_category_check
        CHECK (category IN ('login', 'account_recovery', 'phone_verification', 'compromised', 'billing', 'other'))
    )`.execute(db);

  await sql`
    CREATE TABLE ticket_keys (
      key_hash text PRIMARY KEY,
      case_id uuid NOT NULL REFERENCES support_tickets(case_id),
      created_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX ticket_keys_case_idx ON ticket_keys (case_id)`.execute(db);

  await sql`
    CREATE TABLE ticket_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      -- The order of the conversation: messages written in one instant keep the order they came in.
      seq bigint GENERATED ALWAYS AS IDENTITY,
      case_id uuid NOT NULL REFERENCES support_tickets(case_id),
      author text NOT NULL,
      agent_id uuid REFERENCES accounts(id),
      sender_name text NOT NULL,
      body text NOT NULL,
      via text NOT NULL,
      email_message_id text,
      created_at timestamptz NOT NULL,
      CONSTRAINT ticket_messages_author_check CHECK (author IN ('requester', 'agent')),
      CONSTRAINT ticket_messages_agent_check CHECK ((author = 'agent') = (agent_id IS NOT NULL)),
      CONSTRAINT ticket_messages_via_check CHECK (via IN ('web', 'api', 'email'))
    )`.execute(db);
  await sql`CREATE INDEX ticket_messages_case_idx ON ticket_messages (case_id, seq)`.execute(db);
  // A mail provider may deliver one inbound message twice: the second is recognised, not added.
  await sql`CREATE UNIQUE INDEX ticket_messages_email_once ON ticket_messages (case_id, email_message_id) WHERE email_message_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE ticket_messages`.execute(db);
  await sql`DROP TABLE ticket_keys`.execute(db);
  await sql`DROP TABLE support_tickets`.execute(db);
}
