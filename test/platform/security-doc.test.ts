import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/platform/paths.js';

/**
 * docs/SECURITY.md maps each claim to a test, written `test/…/x.test.ts` › "test name"
 * (further names of the same file follow as ; "name"). Each one must still exist: a renamed
 * or deleted test fails here, so the document cannot drift into citing nothing.
 */
const read = (file: string) => readFileSync(join(projectRoot, file), 'utf8');
const doc = read('docs/SECURITY.md').replace(/\s*\n\s*/g, ' ');

function citations(): Array<{ file: string; name: string }> {
  const found: Array<{ file: string; name: string }> = [];
  for (const match of doc.matchAll(/`(test\/[^`]+?\.test\.ts)` › ("[^"]+"(?:; "[^"]+")*)/g)) {
    for (const [, name] of match[2]!.matchAll(/"([^"]+)"/g)) found.push({ file: match[1]!, name: name! });
  }
  return found;
}

describe('docs/SECURITY.md', () => {
  it('cites tests that exist, by file and name', () => {
    const cited = citations();
    expect(cited.length).toBeGreaterThan(150);
    const missing = cited.filter(({ file, name }) => !existsSync(join(projectRoot, file)) || !read(file).includes(name));
    expect(missing).toEqual([]);
  });

  it('is linked from the README', () => {
    expect(read('README.md')).toContain('](docs/SECURITY.md)');
  });
});
