// Frozen: never edit a migration that has shipped; add a new one.
// The first admin's setup token, shared by every process (issue 16, item 5): each process has
// its own DATA_DIR, so the token is derived from SECRET_KEY and this random nonce, and every
// process can write the same live token into its folder. The database still keeps only the
// token's hash. A row from before has no nonce and is replaced at the next start.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE admin_setup_tokens ADD COLUMN nonce text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE admin_setup_tokens DROP COLUMN nonce`.execute(db);
}
