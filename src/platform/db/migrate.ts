import { DEFAULT_MIGRATION_TABLE, Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { migrations } from '../../../migrations/index.js';

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** The names of the applied migrations, or null before the first migration (no table yet). */
async function appliedMigrations(db: Kysely<unknown>): Promise<Set<string> | null> {
  try {
    const { rows } = await sql<{ name: string }>`SELECT name FROM ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db);
    return new Set(rows.map((r) => r.name));
  } catch {
    return null;
  }
}

/** Runs every pending migration; throws with the failing migration's name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run over any schema
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // Most starts have nothing to apply. One query says so, where the Migrator introspects the
  // catalogue and takes its lock first: about a second of every restart on a busy machine.
  // Anything else (pending, unknown or missing names) goes to the Migrator, which decides.
  const applied = await appliedMigrations(db);
  const names = Object.keys(migrations);
  if (applied && applied.size === names.length && names.every((name) => applied.has(name))) return [];
  // Numbers are handed to branches worked on side by side, which land in any order (0018 before
  // 0013): a database that has a later one still takes an earlier one that arrives after it.
  const migrator = new Migrator({ db, provider: new StaticProvider(), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const name = failed ? ` (${failed.migrationName})` : '';
    throw new Error(`migration failed${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
