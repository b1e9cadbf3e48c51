import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ICONS, USER_TYPES, validateFeed } from '../../src/notices/feed.js';
import { projectRoot } from '../../src/platform/paths.js';

const read = (file: string) => readFileSync(join(projectRoot, file), 'utf8');
const readme = read('README.md');
const rules = read('docs/RULES.md');

/** Paths inside the repository that a document names, in backticks or as a relative link. */
function namedPaths(markdown: string): string[] {
  const paths = new Set<string>();
  for (const [, path] of markdown.matchAll(/`((?:src|docs|migrations|scripts|test|bench|public|templates)\/[^`*…\s]+)`/g)) paths.add(path!);
  for (const [, path] of markdown.matchAll(/\]\(((?!https?:|#)[^)#\s]+)(?:#[^)]*)?\)/g)) paths.add(path!);
  return [...paths];
}

describe('the repository documents its own rules', () => {
  it('points only to files it has (no PRODUCT.md from outside)', () => {
    for (const [name, text] of [['README.md', readme], ['docs/RULES.md', rules]] as const) {
      expect(text, name).not.toContain('PRODUCT.md');
      const missing = namedPaths(text).filter((path) => !existsSync(join(projectRoot, path.replace(/\/$/, ''))));
      expect(missing, name).toEqual([]);
    }
    expect(readme).toContain('](docs/RULES.md)');
  });

  it("gives the notice feed's shape as the code checks it", () => {
    const example = /## Notices[\s\S]*?```json\n([\s\S]*?)```/.exec(rules)?.[1];
    expect(example).toBeDefined();
    expect(validateFeed(JSON.parse(example!))).toEqual([]);
    const listed = (field: string) => {
      const line = rules.split('\n').find((l) => l.startsWith(`- \`${field}\`:`));
      return [...(line ?? '').matchAll(/`([a-z]+)`/g)].map((m) => m[1]).filter((v) => v !== field);
    };
    expect(listed('icon')).toEqual([...ICONS]);
    expect(listed('usertype')).toEqual([...USER_TYPES]);
  });
});
