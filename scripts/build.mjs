// Builds dist/ for `npm start` and `npm run migrate`, and only when a source changed.
//
// Plain JavaScript so Node runs it before anything is built. It transpiles with esbuild, file by
// file, the same layout `tsc` would write (dist/src, dist/migrations): about half a second
// instead of a minute of `tsc` on a busy machine. Type checking is `npm run typecheck`'s job
// (CI runs it); the sources use `isolatedModules` and `verbatimModuleSyntax`, so a per-file
// transpiler gives the same JavaScript. An unchanged checkout does not rebuild: dist/ keeps a
// manifest of every source's size and modification time, and any difference (a file added,
// removed or edited, or this script itself) rebuilds the whole folder.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDirs = ['src', 'migrations'];

function sources(root) {
  return sourceDirs
    .flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
        .map((file) => join(dir, file)),
    )
    .sort();
}

function manifestOf(root, files) {
  const entries = [...files.map((file) => join(root, file)), fileURLToPath(import.meta.url)].map((path) => {
    const stat = statSync(path);
    return [relative(root, path), `${stat.size}:${stat.mtimeMs}`];
  });
  return JSON.stringify(Object.fromEntries(entries));
}

/** Builds root/dist when it is missing or differs from the sources; returns whether it built. */
export async function buildIfStale({ root = projectRoot, force = false } = {}) {
  const outdir = join(root, 'dist');
  const manifestFile = join(outdir, '.build-manifest.json');
  const files = sources(root);
  const manifest = manifestOf(root, files);
  if (!force && existsSync(manifestFile) && readFileSync(manifestFile, 'utf8') === manifest) return false;
  // Loaded only when needed: an up-to-date dist/ starts without the build tools installed.
  const { build } = await import('esbuild');
  for (const dir of sourceDirs) rmSync(join(outdir, dir), { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: files,
    outdir,
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  mkdirSync(outdir, { recursive: true });
  writeFileSync(manifestFile, manifest);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const built = await buildIfStale({ force: process.argv.includes('--force') });
  if (built) process.stdout.write(`verity: built dist/ in ${Date.now() - started} ms\n`);
}
