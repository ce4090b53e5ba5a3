import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class DataDirLockedError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded database is one process and one session: a second hub on the same folder would
 * corrupt it. Like PostgreSQL's postmaster.pid, a pid file names the owner; a file left by a
 * killed hub names a dead pid and is taken over, so a restart after `kill -9` just works.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'hub.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => {
        if (readPid(file) === process.pid) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readPid(file);
    if (owner !== null && owner !== process.pid && isAlive(owner)) {
      throw new DataDirLockedError(
        `The data folder ${dataDir} is in use by another hub (pid ${owner}). ` +
          `The embedded database allows one hub per folder: stop that hub, or set HUB_DATA_DIR to another folder ` +
          `(several hubs need a shared PostgreSQL via DATABASE_URL).`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new DataDirLockedError(`Could not lock the data folder ${dataDir}: another process keeps taking it.`);
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
