import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
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
 * if the first run died with the old process. Written and synced before the dispatch is acked.
 */
export class ExecutionLedger {
  private readonly ids = new Set<string>();
  private fd: number;
  /** Lines in the file; it is rewritten with only the remembered ids once it doubles. */
  private lines = 0;

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

  /** Records an accepted execution durably; throws when the disk refuses. */
  add(executionId: string): void {
    if (this.ids.has(executionId)) return;
    writeSync(this.fd, `${executionId}\n`);
    fdatasyncSync(this.fd);
    this.remember(executionId);
    this.lines += 1;
    if (this.lines > 2 * this.limit) {
      closeSync(this.fd);
      this.rewrite();
      this.fd = openSync(this.path, 'a', 0o600);
    }
  }

  close(): void {
    closeSync(this.fd);
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
