import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errorCode, errorMessage } from '../errors';
import type { Logger } from '../logging/logger';
import { groupGone, readStat, readStatSync } from './process-tree.posix';
import type { ProcessTree } from './process-tree';

interface GroupRecord {
  pid: number;
  bootId: string;
  startTime: string;
}

/** One line of the journal: a command's group began (`start`) or is over (`end`). */
type JournalLine = ({ op: 'start' } & GroupRecord & { executionId: string }) | { op: 'end'; executionId: string };

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
const JOURNAL = 'groups.log';
/** Past this size the journal is rewritten with only the groups still recorded. */
const COMPACT_BYTES = 1 << 20;

function bootId(): string {
  return readFileSync(BOOT_ID_FILE, 'utf8').trim();
}

/**
 * Commands outlive an agent that is killed (SIGKILL, OOM) outside a service manager: each leads
 * its own process group, re-parented to init. While one runs, a line in a journal in the data dir
 * names its group (leader pid, its start time, the boot), and a second line says when it is over;
 * the next agent process stops any group the journal still names, so a command the hub already
 * counts as `lost` does not keep running unseen. A pid is never reused while a group of that id
 * has members, and the start time and boot id rule out a later process that took the leader's pid
 * after the group was gone. Linux only: it relies on /proc (systemd's cgroup already does this for
 * the service; Windows has no groups).
 *
 * Appends to one open file, never synced: the page cache outlives a killed agent, and a line costs
 * a write, where a file per command cost a create and an unlink (~0.4 ms of agent CPU each time).
 */
export class LeftoverProcesses {
  /** Groups recorded and not yet over: this process's commands, and those an earlier one left. */
  private readonly live = new Map<string, GroupRecord>();
  /** Left by an earlier agent process, for `stopLeftovers`. */
  private readonly inherited: Array<[string, GroupRecord]>;
  private fd: number;
  private bytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly boot: string,
  ) {
    this.inherited = [...readJournal(join(dir, JOURNAL)), ...readLegacyFiles(dir)];
    for (const [executionId, record] of this.inherited) this.live.set(executionId, record);
    this.fd = this.rewrite();
    // Only now that the journal holds them: files of an agent version that kept one per command.
    for (const name of readdirSync(dir)) if (name.endsWith('.json')) rmSync(join(dir, name), { force: true });
  }

  /** Null where the platform cannot tell its own groups apart from others'. */
  static open(dir: string, platform: NodeJS.Platform): LeftoverProcesses | null {
    if (platform !== 'linux') return null;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new LeftoverProcesses(dir, bootId());
  }

  /** Called once the command runs; best effort: a record lost to a host crash names nothing alive. */
  record(executionId: string, pid: number, logger: Logger): void {
    const stat = readStatSync(pid);
    if (!stat) return;
    const record: GroupRecord = { pid, bootId: this.boot, startTime: stat.startTime };
    this.live.set(executionId, record);
    try {
      this.append({ op: 'start', executionId, ...record });
    } catch (error) {
      logger.warn({ executionId, error: errorMessage(error) }, 'cannot record the command process group');
    }
  }

  forget(executionId: string): void {
    if (!this.live.delete(executionId)) return;
    try {
      this.append({ op: 'end', executionId });
    } catch {
      // Best effort: a stale line names a group that is gone, which the next process checks.
    }
  }

  /** Stops every group an earlier agent process left running; returns how many it stopped. */
  async stopLeftovers(tree: ProcessTree, graceMs: number, logger: Logger): Promise<number> {
    let stopped = 0;
    for (const [executionId, record] of this.inherited.splice(0)) {
      if (await this.stillOurs(record)) {
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

  private append(line: JournalLine): void {
    if (this.bytes > COMPACT_BYTES) {
      closeSync(this.fd);
      this.fd = this.rewrite();
    }
    const text = `${JSON.stringify(line)}\n`;
    writeSync(this.fd, text);
    this.bytes += Buffer.byteLength(text);
  }

  /** Replaces the journal with the live groups (temp file, rename: never half-written); returns it open for appending. */
  private rewrite(): number {
    const path = join(this.dir, JOURNAL);
    const temp = join(this.dir, `.${JOURNAL}-${randomBytes(6).toString('hex')}.tmp`);
    const text = [...this.live].map(([executionId, record]) => `${JSON.stringify({ op: 'start', executionId, ...record })}\n`).join('');
    writeFileSync(temp, text, { mode: 0o600 });
    renameSync(temp, path);
    this.bytes = Buffer.byteLength(text);
    return openSync(path, 'a', 0o600);
  }
}

/** The groups a journal names as begun and not over; a torn or foreign line is skipped. */
function readJournal(path: string): Map<string, GroupRecord> {
  const groups = new Map<string, GroupRecord>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  for (const raw of text.split('\n')) {
    let line: Partial<JournalLine & GroupRecord>;
    try {
      line = JSON.parse(raw) as Partial<JournalLine & GroupRecord>;
    } catch {
      continue;
    }
    if (typeof line.executionId !== 'string') continue;
    if (line.op === 'end') groups.delete(line.executionId);
    const record = groupRecordOf(line);
    if (line.op === 'start' && record) groups.set(line.executionId, record);
  }
  return groups;
}

/** An older agent kept one `<execution id>.json` file per running command. */
function readLegacyFiles(dir: string): Array<[string, GroupRecord]> {
  const groups: Array<[string, GroupRecord]> = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    try {
      const record = groupRecordOf(JSON.parse(readFileSync(join(dir, name), 'utf8')) as Partial<GroupRecord>);
      if (record) groups.push([name.slice(0, -'.json'.length), record]);
    } catch {
      // Unreadable: names nothing.
    }
  }
  return groups;
}

function groupRecordOf(value: Partial<GroupRecord>): GroupRecord | null {
  return Number.isInteger(value.pid) && typeof value.bootId === 'string' && typeof value.startTime === 'string'
    ? { pid: value.pid!, bootId: value.bootId, startTime: value.startTime }
    : null;
}
