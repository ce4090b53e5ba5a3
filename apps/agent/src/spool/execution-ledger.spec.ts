import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExecutionLedger } from './execution-ledger';

const syncs = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fdatasync: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      syncs.count += 1;
      fs.fdatasync(fd, callback);
    },
  };
});

describe('ExecutionLedger', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-ledger-'));
    path = join(dir, 'executions.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('remembers accepted executions across a restart', () => {
    const ledger = ExecutionLedger.open(path);
    const id = randomUUID();
    ledger.add(id);
    ledger.close();
    const reopened = ExecutionLedger.open(path);
    expect(reopened.has(id)).toBe(true);
    expect(reopened.has(randomUUID())).toBe(false);
    reopened.close();
  });

  it('resolves an add once synced, and adds made while a sync runs share the next one', async () => {
    const ledger = ExecutionLedger.open(path);
    const before = syncs.count;
    const first = ledger.add(randomUUID());
    const rest = Array.from({ length: 5 }, () => ledger.add(randomUUID()));
    await Promise.all([first, ...rest]);
    expect(syncs.count - before).toBe(2);
    ledger.close();
  });

  it('keeps only the most recent ids, in a file that stays small', () => {
    const ledger = ExecutionLedger.open(path, 3);
    const ids = Array.from({ length: 10 }, () => randomUUID());
    for (const id of ids) ledger.add(id);
    ledger.close();
    expect(readFileSync(path, 'utf8').split('\n').length - 1).toBeLessThanOrEqual(6);
    const reopened = ExecutionLedger.open(path, 3);
    expect(ids.map((id) => reopened.has(id))).toEqual([...Array(7).fill(false), true, true, true]);
    reopened.close();
  });

  it('ignores a line torn by a crash, and what is added after it survives the next restart', () => {
    const first = randomUUID();
    const ledger = ExecutionLedger.open(path);
    ledger.add(first);
    ledger.close();
    appendFileSync(path, randomUUID().slice(0, 10));

    const reopened = ExecutionLedger.open(path);
    const second = randomUUID();
    reopened.add(second);
    reopened.close();
    const again = ExecutionLedger.open(path);
    expect([again.has(first), again.has(second)]).toEqual([true, true]);
    expect(readFileSync(path, 'utf8')).toBe(`${first}\n${second}\n`);
    again.close();
  });
});
