import { randomBytes } from 'node:crypto';
import { closeSync, fdatasync, fdatasyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorCode } from '../errors';

/**
 * How many accepted execution ids are remembered. The hub resends only dispatches it has not
 * seen acked or started, which are recent; the bound keeps the file and the memory flat.
 */
export const REMEMBERED_EXECUTIONS = 10_000;

const UUID_LINE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The ids of the executions this agent accepted, kept on disk (one per line) across restarts:
 * a dispatch the hub resends after an agent restart is acked and never run a second time, even
 * if the first run died with the old process.
 *
 * An id is written before the dispatch is acked (the page cache outlives a killed agent) and
 * synced before the command starts (so does the disk, a power cut): the ack does not wait for
 * the disk, and adds made while a sync runs share the next one (group commit). Acked but lost
 * to a power cut before its sync means never started, so the hub's resend runs it once.
 */
export class ExecutionLedger {
  private readonly ids = new Set<string>();
  private fd: number;
  /** Lines in the file; it is rewritten with only the remembered ids once it doubles. */
  private lines = 0;
  /** Adds written since the running sync began: the next sync makes them durable. */
  private waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  /** The descriptor a running sync uses; a descriptor retired meanwhile is closed when it ends. */
  private syncingFd: number | null = null;
  private retiredFd: number | null = null;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly limit: number,
  ) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    const lines = text.split('\n');
    // The last element is what follows the final newline: empty, or a line torn by a crash.
    const complete = lines.slice(0, -1);
    for (const line of complete) if (UUID_LINE.test(line)) this.remember(line);
    const clean = lines.at(-1) === '' && complete.length === this.ids.size;
    if (!clean) this.rewrite();
    else this.lines = complete.length;
    this.fd = openSync(path, 'a', 0o600);
  }

  static open(path: string, limit = REMEMBERED_EXECUTIONS): ExecutionLedger {
    return new ExecutionLedger(path, limit);
  }

  has(executionId: string): boolean {
    return this.ids.has(executionId);
  }

  /**
   * Records an accepted execution: written at once (throws when the disk refuses the write), and
   * the promise resolves once it is synced (rejects when the sync fails).
   */
  add(executionId: string): Promise<void> {
    if (this.ids.has(executionId)) return Promise.resolve();
    writeSync(this.fd, `${executionId}\n`);
    this.remember(executionId);
    this.lines += 1;
    const durable = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (this.lines > 2 * this.limit) this.rewriteNow();
    else this.syncNext();
    return durable;
  }

  /** Syncs what still waits, then releases the file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.waiting.length > 0) this.settle(this.waiting.splice(0), () => fdatasyncSync(this.fd));
    this.retire(this.fd);
  }

  /** Starts a sync for the adds that wait, unless one is running: they share the next. */
  private syncNext(): void {
    if (this.syncingFd !== null || this.waiting.length === 0) return;
    const fd = this.fd;
    const batch = this.waiting.splice(0);
    this.syncingFd = fd;
    fdatasync(fd, (error) => {
      this.syncingFd = null;
      if (this.retiredFd === fd) {
        this.retiredFd = null;
        closeSync(fd);
      }
      this.settle(batch, () => {
        if (error) throw error;
      });
      if (!this.closed) this.syncNext();
    });
  }

  /**
   * The rewritten file is synced, so it also makes durable every add that waits; if it cannot be
   * written they fail, and the old file (which holds them, unsynced) stays.
   */
  private rewriteNow(): void {
    this.retire(this.fd);
    this.settle(this.waiting.splice(0), () => this.rewrite());
    this.fd = openSync(this.path, 'a', 0o600);
  }

  /** Closes `fd` now, or when the sync running on it ends. */
  private retire(fd: number): void {
    if (this.syncingFd === fd) this.retiredFd = fd;
    else closeSync(fd);
  }

  /** Runs `step`, then resolves `batch`, or rejects it with what `step` threw. */
  private settle(batch: typeof this.waiting, step: () => void): void {
    try {
      step();
    } catch (error) {
      for (const added of batch) added.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const added of batch) added.resolve();
  }

  private remember(executionId: string): void {
    this.ids.delete(executionId);
    this.ids.add(executionId);
    // Sets iterate in insertion order: the first one is the oldest.
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value as string);
  }

  /** Replaces the file with the remembered ids (temp file, sync, rename): never half-written. */
  private rewrite(): void {
    const temp = join(dirname(this.path), `.executions-${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fd = openSync(temp, 'wx', 0o600);
      try {
        writeFileSync(fd, [...this.ids].map((id) => `${id}\n`).join(''));
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    this.lines = this.ids.size;
  }
}
