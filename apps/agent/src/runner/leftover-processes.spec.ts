import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger, waitFor } from '../testing/test-support';
import { LeftoverProcesses } from './leftover-processes';
import { groupGone, posixProcessTree } from './process-tree.posix';

const EXECUTION = '00000000-0000-4000-8000-00000000000a';

/** A detached `sh` that starts a `sleep` child: a command's process group, as the runner spawns it. */
function detachedGroup(): number {
  const child = spawn('sh', ['-c', 'sleep 60 & wait'], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid!;
}

describe.runIf(process.platform === 'linux')('LeftoverProcesses', () => {
  let dir: string;
  const groups: number[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-leftovers-'));
  });

  afterEach(() => {
    for (const pgid of groups.splice(0)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops, in a later process, the whole group a recorded command left running', async () => {
    const { logger, lines } = captureLogger();
    const pgid = detachedGroup();
    groups.push(pgid);
    LeftoverProcesses.open(dir, 'linux')!.record(EXECUTION, pgid, logger);
    await waitFor('the sleep child to join the group', async () => !(await groupGone(pgid)), 5_000);

    const later = LeftoverProcesses.open(dir, 'linux')!;
    expect(await later.stopLeftovers(posixProcessTree, 200, logger)).toBe(1);
    expect(await groupGone(pgid)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(lines.some((line) => line.includes(EXECUTION) && line.includes('left running'))).toBe(true);
  });

  it('forgets a command that ended, and leaves alone a process that merely reuses a recorded pid', async () => {
    const { logger } = captureLogger();
    const leftovers = LeftoverProcesses.open(dir, 'linux')!;
    const pgid = detachedGroup();
    groups.push(pgid);
    leftovers.record(EXECUTION, pgid, logger);
    leftovers.forget(EXECUTION);
    expect(existsSync(join(dir, `${EXECUTION}.json`))).toBe(false);

    // The same pid with another start time (or boot) is someone else's process now.
    writeFileSync(join(dir, `${EXECUTION}.json`), JSON.stringify({ pid: pgid, bootId: 'x', startTime: '1' }));
    writeFileSync(join(dir, 'garbage.json'), '{not json');
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(join(dir, `other.json`), JSON.stringify({ pid: pgid, bootId, startTime: '1' }));
    expect(await leftovers.stopLeftovers(posixProcessTree, 200, logger)).toBe(0);
    expect(await groupGone(pgid)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is not used where groups cannot be told apart', () => {
    expect(LeftoverProcesses.open(dir, 'win32')).toBeNull();
  });
});
