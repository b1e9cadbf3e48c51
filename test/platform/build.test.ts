import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/platform/paths.js';
// @ts-expect-error -- plain JavaScript (it runs before anything is built), no declarations
import { buildIfStale } from '../../scripts/build.mjs';

const build = buildIfStale as (options: { root: string; force?: boolean }) => Promise<boolean>;

// A copy of the sources, so that editing and deleting files here leaves the checkout alone.
const root = mkdtempSync(join(tmpdir(), 'verity-build-'));
for (const dir of ['src', 'migrations']) cpSync(join(projectRoot, dir), join(root, dir), { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

const out = (file: string) => join(root, 'dist', file);

describe('npm start builds only what changed', () => {
  it('builds a fresh checkout into dist/ with the same layout tsc wrote', async () => {
    expect(await build({ root })).toBe(true);
    expect(readFileSync(out('src/server.js'), 'utf8')).toMatch(/from ["']\.\/app\.js["']/);
    expect(existsSync(out('src/server.js.map'))).toBe(true);
    expect(existsSync(out('migrations/index.js'))).toBe(true);
    // Types are gone: the output is JavaScript Node runs as is.
    expect(readFileSync(out('src/platform/db/database.js'), 'utf8')).not.toMatch(/export type|: Promise</);
  });

  it('starting an unchanged checkout again does not rebuild', async () => {
    const before = statSync(out('src/server.js')).mtimeMs;
    expect(await build({ root })).toBe(false);
    expect(await build({ root })).toBe(false);
    expect(statSync(out('src/server.js')).mtimeMs).toBe(before);
  });

  it('rebuilds after a source is edited, and drops the output of a deleted one', async () => {
    writeFileSync(join(root, 'src/platform/paths.ts'), readFileSync(join(root, 'src/platform/paths.ts'), 'utf8') + '\nexport const probe = 42;\n');
    expect(await build({ root })).toBe(true);
    expect(readFileSync(out('src/platform/paths.js'), 'utf8')).toContain('probe = 42');

    writeFileSync(join(root, 'src/extra.ts'), 'export const extra: number = 1;\n');
    expect(await build({ root })).toBe(true);
    expect(existsSync(out('src/extra.js'))).toBe(true);
    rmSync(join(root, 'src/extra.ts'));
    expect(await build({ root })).toBe(true);
    expect(existsSync(out('src/extra.js'))).toBe(false);
    expect(await build({ root })).toBe(false);
  });
});
