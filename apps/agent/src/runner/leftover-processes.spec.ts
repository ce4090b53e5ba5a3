import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger, waitFor } from '../testing/test-support';
import { LeftoverProcesses } from './leftover-processes';
import { groupGone, posixProcessTree, readStatSync } from './process-tree.posix';

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

  /** The executions whose groups the journal names as running, as the next agent process would read it. */
  const readJournalGroups = (): string[] => {
    const running = new Set<string>();
    for (const line of readFileSync(join(dir, 'groups.log'), 'utf8').split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as { op: string; executionId: string };
      if (entry.op === 'start') running.add(entry.executionId);
      else running.delete(entry.executionId);
    }
    return [...running];
  };

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
    expect(lines.some((line) => line.includes(EXECUTION) && line.includes('left running'))).toBe(true);
    // Stopped once: the process after that inherits nothing.
    expect(readJournalGroups()).toEqual([]);
  });

  it('forgets a command that ended, and leaves alone a process that merely reuses a recorded pid', async () => {
    const { logger } = captureLogger();
    const leftovers = LeftoverProcesses.open(dir, 'linux')!;
    const pgid = detachedGroup();
    groups.push(pgid);
    leftovers.record(EXECUTION, pgid, logger);
    leftovers.forget(EXECUTION);
    expect(readJournalGroups()).toEqual([]);

    // The same pid with another start time (or boot) is someone else's process now: in the
    // journal, in an older agent's per-command file, or among lines torn or foreign.
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    appendFileSync(join(dir, 'groups.log'), `${JSON.stringify({ op: 'start', executionId: 'other', pid: pgid, bootId: 'x', startTime: '1' })}\n{torn`);
    writeFileSync(join(dir, `${EXECUTION}.json`), JSON.stringify({ pid: pgid, bootId, startTime: '1' }));
    writeFileSync(join(dir, 'garbage.json'), '{not json');
    const later = LeftoverProcesses.open(dir, 'linux')!;
    expect(await later.stopLeftovers(posixProcessTree, 200, logger)).toBe(0);
    expect(await groupGone(pgid)).toBe(false);
    expect(readdirSync(dir)).toEqual(['groups.log']);
    expect(readJournalGroups()).toEqual([]);
  });

  it('stops a group that an older agent recorded in a file of its own', async () => {
    const { logger } = captureLogger();
    const pgid = detachedGroup();
    groups.push(pgid);
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(join(dir, `${EXECUTION}.json`), JSON.stringify({ pid: pgid, bootId, startTime: readStatSync(pgid)!.startTime }));
    const later = LeftoverProcesses.open(dir, 'linux')!;
    expect(readdirSync(dir)).toEqual(['groups.log']);
    expect(await later.stopLeftovers(posixProcessTree, 200, logger)).toBe(1);
    expect(await groupGone(pgid)).toBe(true);
  });

  it('keeps its journal small: rewritten with the groups still running once it grows', () => {
    const { logger } = captureLogger();
    const leftovers = LeftoverProcesses.open(dir, 'linux')!;
    leftovers.record('still-running', process.pid, logger);
    for (let i = 0; i < 12_000; i++) {
      leftovers.record(`done-${i}`, process.pid, logger);
      leftovers.forget(`done-${i}`);
    }
    expect(statSync(join(dir, 'groups.log')).size).toBeLessThan(1.2 * (1 << 20));
    expect(readJournalGroups()).toEqual(['still-running']);
  });

  it('is not used where groups cannot be told apart', () => {
    expect(LeftoverProcesses.open(dir, 'win32')).toBeNull();
  });
});
