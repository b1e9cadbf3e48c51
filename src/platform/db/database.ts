import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from './pglite-dialect.js';
import pg from 'pg';
import { lockDataDir } from './datadir-lock.js';
import { PgChangeFeed, PgliteChangeFeed, type ChangeFeed } from './change-feed.js';
import { watchingDialect } from './watch.js';
import type { DB } from './schema.js';

export type Db = Kysely<DB>;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Committed changes to what the member cache holds (change-feed.ts); not listening until subscribed. */
  readonly changes: ChangeFeed;
  close(): Promise<void>;
}

// int8 comes back as a number from PGlite and a string from node-postgres; make both numbers.
const INT8_OID = 20;
const parseInt8 = (value: string) => Number(value);

export interface OpenOptions {
  /** PostgreSQL connection string; when absent an embedded PGlite database is opened. */
  databaseUrl?: string | undefined;
  /** PGlite data folder; undefined means in memory. */
  dataDir?: string | undefined;
  /** A PGlite data folder dump to start from (tests copy one migrated database per file). */
  loadDataDir?: Blob | undefined;
  poolSize?: number;
}

export async function createPglite(options: { dataDir?: string | undefined; loadDataDir?: Blob | undefined }): Promise<PGlite> {
  let dataDir: string | undefined;
  if (options.dataDir) {
    dataDir = join(options.dataDir, 'pglite');
    mkdirSync(dataDir, { recursive: true });
  }
  return PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    extensions: { pg_trgm },
    parsers: { [INT8_OID]: parseInt8 },
  });
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // A stopped or unreachable server fails a request within this, never hangs it.
      connectionTimeoutMillis: 5000,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that errors (server restart) must not crash the process.
    pool.on('error', () => undefined);
    // Nor one checked out: pg-pool only listens while a client is idle, and a server that
    // ends its sessions (a stop, a failover: 57P01) makes a busy client emit 'error' with no
    // listener, which kills the process. The query in hand fails on its own (a 503).
    pool.on('connect', (client) => client.on('error', () => undefined));
    const changes = new PgChangeFeed(options.databaseUrl);
    const db = new Kysely<DB>({ dialect: watchingDialect(new PostgresDialect({ pool }), () => changes.noteLocalWrite()) });
    return {
      db,
      kind: 'postgres',
      changes,
      close: async () => {
        await changes.close();
        await db.destroy();
      },
    };
  }
  // One process per data folder: a second server (or `npm run migrate`) is refused.
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const release = options.dataDir ? lockDataDir(options.dataDir) : () => undefined;
  let pglite: PGlite;
  try {
    pglite = await createPglite(options);
  } catch (error) {
    release();
    throw error;
  }
  const changes = new PgliteChangeFeed(pglite);
  const db = new Kysely<DB>({ dialect: watchingDialect(new PGliteDialect({ pglite }), () => changes.noteLocalWrite()) });
  return {
    db,
    kind: 'pglite',
    changes,
    close: async () => {
      try {
        await changes.close();
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      } finally {
        release();
      }
    },
  };
}

/** SQLSTATE 23505 with the constraint name, the same on PGlite and PostgreSQL. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string } | null;
  if (!e || e.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint;
}
