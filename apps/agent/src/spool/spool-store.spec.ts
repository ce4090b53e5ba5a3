import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentToHubEvent } from '@outpost/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutboxMessage } from '../connection/outbox';
import { captureLogger } from '../testing/test-support';
import { SpoolStore, type SpoolStoreOptions } from './spool-store';

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

const A = '00000000-0000-4000-8000-00000000000a';
const T = '2025-01-01T00:00:00.000Z';

const output = (seq: number, data: Buffer = Buffer.from(`line ${seq}\n`)): OutboxMessage => ({
  event: AgentToHubEvent.ExecutionOutput,
  payload: { executionId: A, seq, stream: 'stdout', offset: 0, data, at: T },
});
const finished: OutboxMessage = {
  event: AgentToHubEvent.ExecutionFinished,
  payload: {
    executionId: A,
    status: 'failed',
    exitCode: 3,
    signal: null,
    reason: null,
    startedAt: T,
    finishedAt: T,
    outputChunks: 2,
    outputDroppedBytes: 7,
  },
};

describe('SpoolStore', () => {
  let dir: string;
  let logs: ReturnType<typeof captureLogger>;
  const open = (options: Partial<SpoolStoreOptions> = {}) =>
    SpoolStore.open({ dir, maxBytes: 1 << 20, logger: logs.logger, ...options });
  const stored = (store: SpoolStore) => [...store.entries()].map(([id]) => store.load(id));
  const segments = () => readdirSync(dir).filter((name) => name.startsWith('segment-'));

  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'outpost-spool-')), 'spool');
    logs = captureLogger();
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('gives back, after a reopen, every message not acked, in order and byte for byte', () => {
    const store = open();
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x0a]);
    const ids = [store.add(output(0)), store.add(output(1, binary)), store.add(finished)];
    store.remove(ids[0]);
    store.close();

    const reopened = open();
    expect(reopened.size).toBe(2);
    expect(stored(reopened)).toEqual([output(1, binary), finished]);
    // New ids follow the old ones, so the order stays the order of writing.
    const next = reopened.add(output(2));
    expect(next).toBeGreaterThan(ids[2]);
    expect([...reopened.entries()].map(([, entry]) => entry.event)).toEqual([
      AgentToHubEvent.ExecutionOutput,
      AgentToHubEvent.ExecutionFinished,
      AgentToHubEvent.ExecutionOutput,
    ]);
    reopened.close();
  });

  it('holds results until one background sync covers those written together; output is not held', async () => {
    const store = open();
    const synced = new Promise<void>((resolve) => {
      store.onSynced = resolve;
    });
    const before = syncs.count;
    const out = store.add(output(0));
    const results = [1, 2, 3].map((n) =>
      store.add({ ...finished, payload: { ...finished.payload, executionId: `00000000-0000-4000-8000-00000000000${n}` } }),
    );
    expect(store.awaitingSync(out)).toBe(false);
    expect(results.map((id) => store.awaitingSync(id))).toEqual([true, true, true]);
    await synced;
    expect(results.map((id) => store.awaitingSync(id))).toEqual([false, false, false]);
    expect(syncs.count - before).toBe(1);
    store.close();
  });

  it('lets a result go unsynced when its segment is acked and deleted first, without an error', async () => {
    // One record per segment: leaving a segment syncs it, and acking its only message deletes it.
    const store = open({ segmentBytes: 1 });
    const synced = new Promise<void>((resolve) => {
      store.onSynced = resolve;
    });
    const before = syncs.count;
    const result = store.add(finished);
    store.add(output(0));
    store.remove(result);
    expect(segments()).not.toContain('segment-0000000001.log');
    await synced;
    expect(store.awaitingSync(result)).toBe(false);
    expect(syncs.count - before).toBe(0);
    expect(logs.lines.join('')).not.toContain('cannot sync the spool');
    store.close();
  });

  it('skips a record torn by a crash, keeping everything before it', () => {
    const store = open();
    store.add(output(0));
    store.add(finished);
    store.close();
    const [segment] = segments();
    // A crash in the middle of the next write: a frame that promises more than the file holds.
    appendFileSync(join(dir, segment), Buffer.from([0xff, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5]));

    const reopened = open();
    expect(stored(reopened)).toEqual([output(0), finished]);
    expect(logs.lines.join('')).toContain('"problem":"torn"');
    reopened.close();
  });

  it('skips the rest of a segment after a damaged record instead of failing', () => {
    const store = open();
    store.add(output(0));
    store.add(output(1));
    store.close();
    const path = join(dir, segments()[0]);
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(path, bytes);

    const reopened = open();
    expect(stored(reopened)).toEqual([output(0)]);
    expect(logs.lines.join('')).toContain('"problem":"corrupt"');
    reopened.close();
  });

  it('is full at its bound, and deletes segments once all their messages are acked', () => {
    const store = open({ maxBytes: 200_000, segmentBytes: 70_000 });
    const chunk = Buffer.alloc(60_000, 'x');
    const ids: number[] = [];
    while (!store.full) ids.push(store.add(output(ids.length, chunk)));
    expect(ids).toHaveLength(4);
    expect(segments()).toHaveLength(4);
    store.add(finished);
    expect(store.size).toBe(5);
    for (const id of ids.slice(0, 3)) store.remove(id);
    expect(store.full).toBe(false);
    expect(segments()).toHaveLength(1);
    expect(store.bytes).toBeLessThan(200_000);
    store.close();
  });

  it('keeps a message in memory when the disk refuses it, so this process still delivers it', () => {
    const store = open();
    store.close();
    const id = store.add(finished);
    expect(store.load(id)).toEqual(finished);
    expect(logs.lines.join('')).toContain('kept in memory only');
  });
});
