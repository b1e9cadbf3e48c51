import {
  ColumnNode,
  ColumnUpdateNode,
  DeleteQueryNode,
  InsertQueryNode,
  RawNode,
  TableNode,
  UpdateQueryNode,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type OperationNode,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/**
 * The tables whose committed changes the member cache must hear of (their triggers NOTIFY,
 * migrations/0020). This process counts its own such writes when they commit, so a cache
 * read that follows one waits until the change feed has delivered the notification
 * (MemberCache.fresh): a member sees their own change at once, even before PostgreSQL's
 * NOTIFY has reached this process. Inserts into `sessions` are left out (no cache can hold a
 * new session); so are updates that only touch `sessions.last_seen_at` or
 * `service_keys.last_used_at`, which the triggers do not announce either.
 */
const WATCHED = new Set(['accounts', 'sessions', 'staff_roles', 'phone_numbers', 'phone_verifications', 'two_step_methods', 'service_keys']);
const QUIET_COLUMNS: Record<string, string> = { sessions: 'last_seen_at', service_keys: 'last_used_at' };
const RAW_WRITE = /^\s*(?:update|insert\s+into|delete\s+from)\s+"?(\w+)"?/i;

function tableName(node: OperationNode | undefined): string | undefined {
  if (node && TableNode.is(node)) return node.table.identifier.name;
  return undefined;
}

function updatedColumns(node: UpdateQueryNode): string[] {
  return (node.updates ?? []).filter(ColumnUpdateNode.is).map((u) => (ColumnNode.is(u.column) ? u.column.column.name : ''));
}

/** Whether a statement writes something the member cache holds. */
export function writesWatched(query: CompiledQuery): boolean {
  const node = query.query;
  if (UpdateQueryNode.is(node)) {
    const table = tableName(node.table);
    if (!table || !WATCHED.has(table)) return false;
    const quiet = QUIET_COLUMNS[table];
    return !quiet || updatedColumns(node).some((c) => c !== quiet);
  }
  if (InsertQueryNode.is(node)) {
    const table = tableName(node.into);
    return !!table && WATCHED.has(table) && table !== 'sessions';
  }
  if (DeleteQueryNode.is(node)) {
    return node.from.froms.some((f) => WATCHED.has(tableName(f) ?? ''));
  }
  if (RawNode.is(node as OperationNode)) {
    const table = RAW_WRITE.exec(query.sql)?.[1];
    return !!table && WATCHED.has(table);
  }
  return false;
}

/** Told once a watched write has committed in this process. */
export type OnWatchedCommit = () => void;

class WatchingConnection implements DatabaseConnection {
  /** A watched write ran in the open transaction; said when it commits. */
  dirty = false;
  inTransaction = false;
  constructor(
    readonly inner: DatabaseConnection,
    private readonly onCommit: OnWatchedCommit,
  ) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.inner.executeQuery<R>(compiledQuery);
    if (writesWatched(compiledQuery)) {
      if (this.inTransaction) this.dirty = true;
      else this.onCommit();
    }
    return result;
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}

class WatchingDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, WatchingConnection>();
  constructor(
    private readonly inner: Driver,
    private readonly onCommit: OnWatchedCommit,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let wrapper = this.wrapped.get(connection);
    if (!wrapper) {
      wrapper = new WatchingConnection(connection, this.onCommit);
      this.wrapped.set(connection, wrapper);
    }
    return wrapper;
  }

  async beginTransaction(connection: WatchingConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(connection.inner, settings);
    connection.inTransaction = true;
    connection.dirty = false;
  }

  async commitTransaction(connection: WatchingConnection): Promise<void> {
    try {
      await this.inner.commitTransaction(connection.inner);
      if (connection.dirty) this.onCommit();
    } finally {
      connection.inTransaction = false;
      connection.dirty = false;
    }
  }

  async rollbackTransaction(connection: WatchingConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(connection.inner);
    } finally {
      connection.inTransaction = false;
      connection.dirty = false;
    }
  }

  async savepoint(connection: WatchingConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.savepoint!(connection.inner, name, compile);
  }

  async rollbackToSavepoint(connection: WatchingConnection, name: string, compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2]): Promise<void> {
    await this.inner.rollbackToSavepoint!(connection.inner, name, compile);
  }

  async releaseSavepoint(connection: WatchingConnection, name: string, compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2]): Promise<void> {
    await this.inner.releaseSavepoint!(connection.inner, name, compile);
  }

  releaseConnection(connection: WatchingConnection): Promise<void> {
    return this.inner.releaseConnection(connection.inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/** A dialect that tells `onCommit` each time a watched write commits through it. */
export function watchingDialect(inner: Dialect, onCommit: OnWatchedCommit): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createDriver: () => new WatchingDriver(inner.createDriver(), onCommit),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
  };
}
