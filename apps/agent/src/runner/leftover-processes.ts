import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors';
import type { Logger } from '../logging/logger';
import { groupGone, readStat, readStatSync } from './process-tree.posix';
import type { ProcessTree } from './process-tree';

interface GroupRecord {
  pid: number;
  bootId: string;
  startTime: string;
}

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

function bootId(): string {
  return readFileSync(BOOT_ID_FILE, 'utf8').trim();
}

/**
 * Commands outlive an agent that is killed (SIGKILL, OOM) outside a service manager: each leads
 * its own process group, re-parented to init. While one runs, a small file in the data dir names
 * its group (leader pid, its start time, the boot); the next agent process stops any group such a
 * file still names, so a command the hub already counts as `lost` does not keep running unseen.
 * A pid is never reused while a group of that id has members, and the start time and boot id
 * rule out a later process that took the leader's pid after the group was gone. Linux only: it
 * relies on /proc (systemd's cgroup already does this for the service; Windows has no groups).
 */
export class LeftoverProcesses {
  private constructor(
    private readonly dir: string,
    private readonly boot: string,
  ) {}

  /** Null where the platform cannot tell its own groups apart from others'. */
  static open(dir: string, platform: NodeJS.Platform): LeftoverProcesses | null {
    if (platform !== 'linux') return null;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new LeftoverProcesses(dir, bootId());
  }

  /**
   * Called once the command runs; best effort: a record lost to a host crash names nothing alive.
   * Synchronous and never synced: the page cache outlives a killed agent, and both writes together
   * take well under a millisecond.
   */
  record(executionId: string, pid: number, logger: Logger): void {
    const stat = readStatSync(pid);
    if (!stat) return;
    const record: GroupRecord = { pid, bootId: this.boot, startTime: stat.startTime };
    try {
      writeFileSync(this.file(executionId), JSON.stringify(record), { mode: 0o600 });
    } catch (error) {
      logger.warn({ executionId, error: errorMessage(error) }, 'cannot record the command process group');
    }
  }

  forget(executionId: string): void {
    rmSync(this.file(executionId), { force: true });
  }

  /** Stops every group an earlier agent process left running; returns how many it stopped. */
  async stopLeftovers(tree: ProcessTree, graceMs: number, logger: Logger): Promise<number> {
    let stopped = 0;
    for (const name of readdirSync(this.dir).filter((n) => n.endsWith('.json'))) {
      const executionId = name.slice(0, -'.json'.length);
      const record = this.read(name);
      if (record && (await this.stillOurs(record))) {
        logger.warn({ executionId, pgid: record.pid }, 'stopping the processes of a command an earlier agent process left running');
        const gone = await tree.stop(record.pid, graceMs);
        if (!gone) logger.error({ executionId, pgid: record.pid }, 'processes survived the kill');
        stopped += 1;
      }
      this.forget(executionId);
    }
    return stopped;
  }

  private async stillOurs(record: GroupRecord): Promise<boolean> {
    if (record.bootId !== this.boot) return false;
    const leader = await readStat(record.pid);
    if (leader && leader.startTime !== record.startTime) return false;
    return !(await groupGone(record.pid));
  }

  private read(name: string): GroupRecord | null {
    try {
      const value = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as Partial<GroupRecord>;
      return Number.isInteger(value.pid) && typeof value.bootId === 'string' && typeof value.startTime === 'string'
        ? (value as GroupRecord)
        : null;
    } catch {
      return null;
    }
  }

  private file(executionId: string): string {
    return join(this.dir, `${executionId}.json`);
  }
}
