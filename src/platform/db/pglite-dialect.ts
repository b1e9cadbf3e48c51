import { TransactionAbortedError, type PGlite, type Transaction as PGliteTransaction } from '@electric-sql/pglite';
import {
  AbortedTransactionError,
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/**
 * Kysely dialect for embedded PGlite. Kysely 0.28 (the line that supports Node 20) has none of
 * its own, and the community ones either let overlapping transactions mix or pin old PGlite
 * versions (STACK-NOTES).
 *
 * PGlite is one connection. Two async flows that each run BEGIN … COMMIT on it would interleave
 * their statements into one transaction, so the driver hands out its single connection to one
 * holder at a time: a second transaction (or plain query) waits until the first is released.
 * A transaction's body runs inside `pglite.transaction()`, which also holds PGlite's own lock
 * (anything calling PGlite directly waits too) and writes to disk once at COMMIT instead of
 * after every statement. The price is the same as with any single connection: a query on `db`
 * from inside a `db.transaction()` callback waits for ever; use the `trx` it hands you.
 */
export class PGliteDialect implements Dialect {
  readonly #pglite: PGlite;

  constructor(config: { pglite: PGlite }) {
    this.#pglite = config.pglite;
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#pglite);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

/** What the connection runs statements on: PGlite itself, or the open PGlite transaction. */
type Executor = Pick<PGliteTransaction, 'query'>;

interface OpenTransaction {
  tx: PGliteTransaction;
  /** Lets the `pglite.transaction()` callback return, so PGlite commits (or, after rollback, just ends). */
  finish: () => void;
  /** Settles when PGlite has committed or rolled back; rejects when COMMIT failed. */
  done: Promise<unknown>;
}

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;
  #open: OpenTransaction | undefined;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  get #executor(): Executor {
    return this.#open?.tx ?? this.#pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.#executor.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    const changes = result.command === 'INSERT' || result.command === 'UPDATE' || result.command === 'DELETE' || result.command === 'MERGE';
    return {
      rows: result.rows,
      ...(changes ? { numAffectedRows: BigInt(result.rowCount ?? result.affectedRows ?? 0) } : {}),
    };
  }

  /** PGlite has no cursors: the rows are read at once and handed out in chunks. */
  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new Error('chunkSize must be a positive integer');
    const { rows } = await this.executeQuery<R>(compiledQuery);
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) };
  }

  async begin(settings: TransactionSettings): Promise<void> {
    if (this.#open) throw new Error('a transaction is already open on this connection');
    let started!: (tx: PGliteTransaction) => void;
    let failedToStart!: (error: unknown) => void;
    const opened = new Promise<PGliteTransaction>((resolve, reject) => {
      started = resolve;
      failedToStart = reject;
    });
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const done = this.#pglite.transaction(async (tx) => {
      started(tx);
      await finished;
    });
    done.catch(failedToStart);
    const tx = await opened;
    this.#open = { tx, finish, done };
    const characteristics = [
      settings.isolationLevel ? `isolation level ${settings.isolationLevel}` : '',
      settings.accessMode ?? '',
    ].filter(Boolean);
    if (characteristics.length > 0) await tx.query(`set transaction ${characteristics.join(' ')}`);
  }

  async commit(): Promise<void> {
    const open = this.#take();
    open.finish();
    try {
      await open.done;
    } catch (error) {
      // COMMIT answered ROLLBACK: an earlier statement failed. Kysely knows it by its own class.
      if (error instanceof TransactionAbortedError) throw new AbortedTransactionError();
      throw error;
    }
  }

  async rollback(): Promise<void> {
    // After a failed COMMIT Kysely still asks for a rollback; PGlite has already ended it.
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    try {
      if (!open.tx.closed) await open.tx.rollback();
    } finally {
      open.finish();
      await open.done.catch(() => undefined);
    }
  }

  async savepoint(command: 'savepoint' | 'rollback to savepoint' | 'release savepoint', name: string): Promise<void> {
    await this.#take(false).tx.query(`${command} "${name.replaceAll('"', '""')}"`);
  }

  #take(clear = true): OpenTransaction {
    const open = this.#open;
    if (!open) throw new Error('no transaction is open on this connection');
    if (clear) this.#open = undefined;
    return open;
  }
}

class PGliteDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #connection: PGliteConnection;
  /** Settles when the current holder releases the connection; the next holder waits on it. */
  #released: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
    this.#connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {
    if (this.#pglite.closed) throw new Error('the PGlite database is already closed');
    await this.#pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#released;
    let release!: () => void;
    this.#released = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.#release = release;
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  async beginTransaction(connection: PGliteConnection, settings: TransactionSettings): Promise<void> {
    await connection.begin(settings);
  }

  async commitTransaction(connection: PGliteConnection): Promise<void> {
    await connection.commit();
  }

  async rollbackTransaction(connection: PGliteConnection): Promise<void> {
    await connection.rollback();
  }

  async savepoint(connection: PGliteConnection, name: string): Promise<void> {
    await connection.savepoint('savepoint', name);
  }

  async rollbackToSavepoint(connection: PGliteConnection, name: string): Promise<void> {
    await connection.savepoint('rollback to savepoint', name);
  }

  async releaseSavepoint(connection: PGliteConnection, name: string): Promise<void> {
    await connection.savepoint('release savepoint', name);
  }

  async destroy(): Promise<void> {
    if (!this.#pglite.closed) await this.#pglite.close();
  }
}
