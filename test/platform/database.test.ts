import { AbortedTransactionError, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUniqueViolation, type Database } from '../../src/platform/db/database.js';
import { openTestDatabase } from '../helpers/database.js';

// The same behaviour on both databases: on PGlite it is our own dialect over one connection
// (src/platform/db/pglite-dialect.ts), on PostgreSQL Kysely's pool.
interface Probe {
  dialect_counter: { id: number; n: number };
  dialect_rows: { label: string };
}

let database: Database;
let db: Kysely<Probe>;

beforeAll(async () => {
  database = await openTestDatabase();
  db = database.db as unknown as Kysely<Probe>;
  await sql`CREATE TABLE dialect_counter (id int PRIMARY KEY, n int NOT NULL)`.execute(db);
  await sql`CREATE TABLE dialect_rows (label text PRIMARY KEY)`.execute(db);
});
afterAll(async () => {
  await database?.close();
});

const labels = async () => (await db.selectFrom('dialect_rows').select('label').orderBy('label').execute()).map((r) => r.label);

describe('transactions on the database dialect', () => {
  it('20 concurrent transactional increments add up to 20, each seeing its own value', async () => {
    await db.insertInto('dialect_counter').values({ id: 1, n: 0 }).execute();
    const seen = await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction().execute(async (trx) => {
          const row = await trx.updateTable('dialect_counter').set((eb) => ({ n: eb('n', '+', 1) })).where('id', '=', 1).returning('n').executeTakeFirstOrThrow();
          await trx.selectFrom('dialect_counter').select('n').execute(); // a second statement in the same transaction
          return row.n;
        }),
      ),
    );
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const final = await db.selectFrom('dialect_counter').select('n').where('id', '=', 1).executeTakeFirstOrThrow();
    expect(final.n).toBe(20);
  });

  it('overlapping transactions do not mix: one rolling back keeps the other\'s rows', async () => {
    await db.deleteFrom('dialect_rows').execute();
    const keep = db.transaction().execute(async (trx) => {
      for (const label of ['a1', 'a2', 'a3']) await trx.insertInto('dialect_rows').values({ label }).execute();
    });
    const undo = db.transaction().execute(async (trx) => {
      await trx.insertInto('dialect_rows').values({ label: 'b1' }).execute();
      await trx.insertInto('dialect_rows').values({ label: 'b2' }).execute();
      throw new Error('changed my mind');
    });
    const plain = db.insertInto('dialect_rows').values({ label: 'c1' }).execute();
    const results = await Promise.allSettled([keep, undo, plain]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await labels()).toEqual(['a1', 'a2', 'a3', 'c1']);
  });

  it('a failed statement in one transaction leaves an overlapping one committing normally', async () => {
    await db.deleteFrom('dialect_rows').execute();
    await db.insertInto('dialect_rows').values({ label: 'taken' }).execute();
    const failing = db.transaction().execute(async (trx) => {
      await trx.insertInto('dialect_rows').values({ label: 'x1' }).execute();
      await trx.insertInto('dialect_rows').values({ label: 'taken' }).execute();
    });
    const fine = db.transaction().execute(async (trx) => {
      await trx.insertInto('dialect_rows').values({ label: 'y1' }).execute();
      await trx.insertInto('dialect_rows').values({ label: 'y2' }).execute();
    });
    const [f, ok] = await Promise.allSettled([failing, fine]);
    expect(f.status === 'rejected' && isUniqueViolation(f.reason, 'dialect_rows_pkey')).toBe(true);
    expect(ok.status).toBe('fulfilled');
    expect(await labels()).toEqual(['taken', 'y1', 'y2']);
  });

  it('committing after a swallowed error reports the aborted transaction and keeps nothing', async () => {
    await db.deleteFrom('dialect_rows').execute();
    await db.insertInto('dialect_rows').values({ label: 'taken' }).execute();
    const attempt = db.transaction().execute(async (trx) => {
      await trx.insertInto('dialect_rows').values({ label: 'z1' }).execute();
      await trx.insertInto('dialect_rows').values({ label: 'taken' }).execute().catch(() => undefined);
    });
    await expect(attempt).rejects.toBeInstanceOf(AbortedTransactionError);
    expect(await labels()).toEqual(['taken']);
    // The connection is usable afterwards.
    await db.transaction().execute((trx) => trx.insertInto('dialect_rows').values({ label: 'after' }).execute());
    expect(await labels()).toEqual(['after', 'taken']);
  });

  it('savepoints roll back part of a transaction', async () => {
    await db.deleteFrom('dialect_rows').execute();
    const trx = await db.startTransaction().execute();
    await trx.insertInto('dialect_rows').values({ label: 's1' }).execute();
    const sp = await trx.savepoint('before_s2').execute();
    await sp.insertInto('dialect_rows').values({ label: 's2' }).execute();
    const back = await sp.rollbackToSavepoint('before_s2').execute();
    await back.insertInto('dialect_rows').values({ label: 's3' }).execute();
    await back.commit().execute();
    expect(await labels()).toEqual(['s1', 's3']);
  });

  it('reports changed rows and applies the isolation level asked for', async () => {
    await db.deleteFrom('dialect_rows').execute();
    await db.insertInto('dialect_rows').values([{ label: 'r1' }, { label: 'r2' }, { label: 'r3' }]).execute();
    const deleted = await db.deleteFrom('dialect_rows').where('label', '<>', 'r3').executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(2n);
    const level = await db
      .transaction()
      .setIsolationLevel('serializable')
      .execute(async (trx) => (await sql<{ transaction_isolation: string }>`SHOW transaction_isolation`.execute(trx)).rows[0]?.transaction_isolation);
    expect(level).toBe('serializable');
  });
});
