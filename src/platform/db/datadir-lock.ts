import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'pglite.lock';

/** Another live process holds the data folder; its message is the one line the server prints. */
export class DataDirLockedError extends Error {
  constructor(dataDir: string, pid: number) {
    super(`DATA_DIR ${dataDir} is in use by another Verity process (pid ${pid}); stop it first or choose another DATA_DIR`);
    this.name = 'DataDirLockedError';
  }
}

function holder(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; it still holds the folder.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeStale(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Claims DATA_DIR for this process: PGlite is one in-process PostgreSQL, and two of them
 * writing one folder corrupt it silently. The claim is a file created exclusively (O_EXCL)
 * holding our pid. A file left by a process that died (kill -9, power cut) names a pid that
 * no longer runs and is taken over; so is one naming our own pid (a container restarted as
 * pid 1). Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = holder(file);
      if (pid !== null && pid !== process.pid && alive(pid)) throw new DataDirLockedError(dataDir, pid);
      if (pid === null && attempt === 0) {
        // A claim being written right now has no pid yet; give its writer a moment.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      removeStale(file);
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return () => {
      // Only our own claim is removed: never a successor's.
      if (holder(file) === process.pid) unlinkSync(file);
    };
  }
  throw new Error(`could not claim ${file}; remove it if no Verity process is running`);
}
