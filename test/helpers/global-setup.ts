import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createPglite } from '../../src/platform/db/database.js';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from '../../src/platform/db/pglite-dialect.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { projectRoot } from '../../src/platform/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteDump: string;
    pgTemplate: string;
  }
}

/**
 * Migrates one database for the whole run; each test file then starts from a copy of it:
 * a PGlite data-folder dump, or a PostgreSQL template database.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url) {
    const template = `verity_tpl_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${template}`);
    await admin.end();
    const templateUrl = withDatabase(url, template);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: templateUrl, max: 1 }) }) });
    await migrateToLatest(db);
    await db.destroy();
    project.provide('pgTemplate', template);
    project.provide('pgliteDump', '');
    return async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${template}`);
      await client.end();
    };
  }
  const pglite = await createPglite({});
  const db = new Kysely<unknown>({ dialect: new PGliteDialect({ pglite }) });
  await migrateToLatest(db);
  const dump = await pglite.dumpDataDir('none');
  const dir = join(projectRoot, '.test-cache');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `pglite-${process.pid}.tar`);
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await db.destroy();
  project.provide('pgliteDump', file);
  project.provide('pgTemplate', '');
  return undefined;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
