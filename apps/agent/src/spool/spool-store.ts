import { closeSync, fdatasync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentToHubEvent } from '@outpost/protocol';
import type { OutboxEntry, OutboxMessage, OutboxStore } from '../connection/outbox';
import { errorMessage } from '../errors';
import type { Logger } from '../logging/logger';
import { decodeRecord, encodeRecord, type SpoolRecord } from './spool-record';

/** 256 MiB: hours of ordinary output from a busy host while the hub is away, and still little disk. */
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;

/** Each message costs ~100 bytes of index in memory: this keeps the index under ~10 MB. */
const MAX_MESSAGES = 100_000;

export interface SpoolStoreOptions {
  dir: string;
  /** Disk the spool may take before output waits for acks (starts and results are always taken). */
  maxBytes: number;
  logger: Logger;
  /** A segment takes no more records past this size; it is deleted once all of them are acked. */
  segmentBytes?: number;
  /** Output and starts reach the disk within this long; results at once. */
  syncDelayMs?: number;
}

/** 8 MiB: few files for a full spool, and a fully acked segment is soon deleted. */
const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;
/** A power cut may lose the last second of output, never a result. */
const DEFAULT_SYNC_DELAY_MS = 1_000;
/** A current segment whose messages are all acked is replaced once it holds this much. */
const TIDY_BYTES = 1024 * 1024;

const SEGMENT_NAME = /^segment-(\d{10})\.log$/;

interface Segment {
  number: number;
  path: string;
  fd: number;
  bytes: number;
  /** Messages in it not yet acked. */
  live: number;
  /** Background syncs running on `fd`: it is closed only once they are done. */
  syncing: number;
  /** Deleted or the store closed: `fd` is closed, or will be when the last sync on it ends. */
  released: boolean;
}

type Indexed =
  | { entry: OutboxEntry; segment: Segment; offset: number; length: number }
  /** The disk refused it: still delivered while this process lives, but not durable. */
  | { entry: OutboxEntry; memory: OutboxMessage };

/**
 * The outbox on disk (`<data-dir>/spool`): every report is appended to a segment file before it
 * is sent, and stays until the hub acks it, so a dropped link, a hub restart or an agent restart
 * loses nothing. Only an index is kept in memory; a message is read back when it is sent.
 *
 * Acks are appended as small records too, so a restart resends only what was not acked. A
 * segment is deleted when all of its messages are acked; if that takes an ack record of an older
 * segment with it, the message is resent after a restart, which the hub ignores (it stores each
 * message once). Reading is sync: files are local, records small, and ordering stays trivial.
 */
export class SpoolStore implements OutboxStore {
  private readonly index = new Map<number, Indexed>();
  private readonly segments: Segment[] = [];
  private current: Segment | null = null;
  private nextId = 0;
  private nextSegment = 1;
  private diskBytes = 0;
  private unsynced = false;
  private closed = false;
  private syncTimer: NodeJS.Timeout | undefined;
  /** Results written but not yet synced, with the segment each is in: not sent until synced. */
  private readonly unsyncedResults = new Map<number, Segment>();
  /** A sync of results is scheduled or running; results written meanwhile wait for the next. */
  private resultSync: 'scheduled' | 'running' | null = null;
  private readonly segmentBytes: number;
  private readonly syncDelayMs: number;

  private constructor(private readonly options: SpoolStoreOptions) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.syncDelayMs = options.syncDelayMs ?? DEFAULT_SYNC_DELAY_MS;
  }

  /** Opens the spool, reading back whatever an earlier run left unacked; throws if the folder is unusable. */
  static open(options: SpoolStoreOptions): SpoolStore {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const store = new SpoolStore(options);
    store.recover();
    return store;
  }

  get size(): number {
    return this.index.size;
  }

  get full(): boolean {
    return this.diskBytes >= this.options.maxBytes || this.index.size >= MAX_MESSAGES;
  }

  onSynced: () => void = () => undefined;

  /** Bytes of segment files on disk. */
  get bytes(): number {
    return this.diskBytes;
  }

  add(message: OutboxMessage): number {
    const id = this.nextId++;
    const entry: OutboxEntry = { event: message.event, executionId: message.payload.executionId };
    let segment: Segment;
    try {
      const appended = this.append({ kind: 'message', id, message });
      segment = appended.segment;
      segment.live += 1;
      this.index.set(id, { entry, segment, offset: appended.offset, length: appended.length });
    } catch (error) {
      this.options.logger.error(
        { ...entry, dir: this.options.dir, error: errorMessage(error) },
        'cannot write to the spool; the message is kept in memory only',
      );
      this.index.set(id, { entry, memory: message });
      return id;
    }
    // The result is what must survive anything, so it is held until synced; results written in
    // the same turn of the event loop share one sync. Output may trail by the sync delay.
    if (message.event === AgentToHubEvent.ExecutionFinished) this.holdUntilSynced(id, segment);
    else this.syncSoon();
    return id;
  }

  awaitingSync(id: number): boolean {
    return this.unsyncedResults.has(id);
  }

  remove(id: number): void {
    // A late ack after close: the message is resent after the restart, which the hub ignores.
    if (this.closed) return;
    const indexed = this.index.get(id);
    if (indexed === undefined) return;
    this.index.delete(id);
    if ('memory' in indexed) return;
    const { segment } = indexed;
    segment.live -= 1;
    try {
      this.append({ kind: 'ack', id });
    } catch (error) {
      // Only costs a resend of this message after a restart.
      this.options.logger.debug({ error: errorMessage(error) }, 'cannot record an ack in the spool');
    }
    if (segment.live > 0) return;
    if (segment !== this.current) this.deleteSegment(segment);
    else if (segment.bytes >= TIDY_BYTES) {
      this.current = null;
      this.deleteSegment(segment);
    }
  }

  *entries(): Iterable<[number, OutboxEntry]> {
    for (const [id, indexed] of this.index) yield [id, indexed.entry];
  }

  load(id: number): OutboxMessage {
    const indexed = this.index.get(id);
    if (indexed === undefined) throw new Error(`no spooled message ${id}`);
    if ('memory' in indexed) return indexed.memory;
    const buffer = Buffer.allocUnsafe(indexed.length);
    readFully(indexed.segment.fd, buffer, indexed.offset);
    const decoded = decodeRecord(buffer, 0);
    if (!decoded.ok) throw new Error(`spooled message ${id} is damaged: ${decoded.message}`);
    if (decoded.record.kind !== 'message') throw new Error(`spool record ${id} is not a message`);
    return decoded.record.message;
  }

  /** Makes everything written durable and releases the files. */
  close(): void {
    this.closed = true;
    clearTimeout(this.syncTimer);
    if (this.unsynced || this.unsyncedResults.size > 0) this.syncNow();
    this.unsyncedResults.clear();
    for (const segment of this.segments) releaseFd(segment);
    this.segments.length = 0;
    this.current = null;
  }

  private recover(): void {
    const numbers = readdirSync(this.options.dir)
      .flatMap((name) => {
        const match = SEGMENT_NAME.exec(name);
        return match ? [Number(match[1])] : [];
      })
      .sort((a, b) => a - b);
    for (const number of numbers) this.recoverSegment(number);
    this.nextSegment = (numbers.at(-1) ?? 0) + 1;
    for (const segment of [...this.segments]) {
      if (segment.live === 0) this.deleteSegment(segment);
    }
    if (this.index.size > 0) {
      this.options.logger.info(
        { messages: this.index.size, results: [...this.entries()].filter(([, e]) => e.event === AgentToHubEvent.ExecutionFinished).length },
        'spool holds reports from an earlier run; they are sent when connected',
      );
    }
  }

  private recoverSegment(number: number): void {
    const path = this.segmentPath(number);
    let file: Buffer;
    let fd: number;
    try {
      file = readFileSync(path);
      fd = openSync(path, 'r');
    } catch (error) {
      this.options.logger.error({ path, error: errorMessage(error) }, 'cannot read a spool segment; skipped');
      return;
    }
    // Never appended to again: a torn tail stays where it is, behind the records read here.
    const segment: Segment = { number, path, fd, bytes: file.length, live: 0, syncing: 0, released: false };
    this.segments.push(segment);
    this.diskBytes += file.length;
    let offset = 0;
    while (offset < file.length) {
      const decoded = decodeRecord(file, offset);
      if (!decoded.ok) {
        // A crash mid-write leaves a torn record at the end; anything else is damage. Either way
        // nothing after it can be framed, so the rest of this segment is skipped, not fatal.
        this.options.logger.warn(
          { path, offset, problem: decoded.problem, detail: decoded.message, skippedBytes: file.length - offset },
          'spool segment ends in a damaged record; the rest of it is skipped',
        );
        break;
      }
      this.replay(decoded.record, segment, offset, decoded.bytes);
      offset += decoded.bytes;
    }
  }

  private replay(record: SpoolRecord, segment: Segment, offset: number, length: number): void {
    this.nextId = Math.max(this.nextId, record.id + 1);
    if (record.kind === 'ack') {
      const acked = this.index.get(record.id);
      if (acked !== undefined && 'segment' in acked) acked.segment.live -= 1;
      this.index.delete(record.id);
      return;
    }
    const { message } = record;
    segment.live += 1;
    this.index.set(record.id, {
      entry: { event: message.event, executionId: message.payload.executionId },
      segment,
      offset,
      length,
    });
  }

  private append(record: SpoolRecord): { segment: Segment; offset: number; length: number } {
    if (this.closed) throw new Error('the spool is closed');
    const bytes = encodeRecord(record);
    let segment = this.current;
    if (segment !== null && segment.bytes > 0 && segment.bytes + bytes.length > this.segmentBytes) {
      // Only the current segment is synced later: the one left behind is made durable now.
      fdatasyncSync(segment.fd);
      segment = null;
    }
    segment ??= this.newSegment();
    this.current = segment;
    const offset = segment.bytes;
    try {
      writeFully(segment.fd, bytes, offset);
    } catch (error) {
      // A partial record may be on disk now: later records go to a fresh segment, after nothing torn.
      this.current = null;
      throw error;
    }
    segment.bytes += bytes.length;
    this.diskBytes += bytes.length;
    return { segment, offset, length: bytes.length };
  }

  private newSegment(): Segment {
    const number = this.nextSegment++;
    const path = this.segmentPath(number);
    const fd = openSync(path, 'wx+', 0o600);
    // The new name must survive a power cut too, or the records in it are unreachable.
    const dir = openSync(this.options.dir, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    const segment: Segment = { number, path, fd, bytes: 0, live: 0, syncing: 0, released: false };
    this.segments.push(segment);
    return segment;
  }

  private deleteSegment(segment: Segment): void {
    this.segments.splice(this.segments.indexOf(segment), 1);
    this.diskBytes -= segment.bytes;
    try {
      releaseFd(segment);
      unlinkSync(segment.path);
    } catch (error) {
      this.options.logger.warn({ path: segment.path, error: errorMessage(error) }, 'cannot delete an acked spool segment');
    }
  }

  private syncNow(): void {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.unsynced = false;
    if (this.current === null) return;
    try {
      fdatasyncSync(this.current.fd);
    } catch (error) {
      this.options.logger.error({ error: errorMessage(error) }, 'cannot sync the spool; a power cut could lose reports');
    }
  }

  /**
   * Holds a result until a background sync of its segment file covers it. Results written in one
   * turn of the event loop share that sync (one file, unless a new segment began between them);
   * those written while it runs share the next. The sync uses the segment's own descriptor, which
   * is kept open until it is done (one trip through the thread pool, not three with an open and a
   * close of its own).
   */
  private holdUntilSynced(id: number, segment: Segment): void {
    this.unsyncedResults.set(id, segment);
    if (this.resultSync !== null) return;
    this.resultSync = 'scheduled';
    setImmediate(() => this.syncResults());
  }

  private syncResults(): void {
    if (this.closed) return; // closing synced everything
    const batch = [...this.unsyncedResults];
    // A released segment needs none: deleted once all of it was acked, or synced as it was left.
    const segments = [...new Set(batch.map(([, segment]) => segment))].filter((segment) => !segment.released);
    this.resultSync = 'running';
    let pending = segments.length + 1;
    const synced = (error: NodeJS.ErrnoException | null): void => {
      // Logged and let go, as a failed sync of output is: the result is still delivered.
      if (error) this.options.logger.error({ error: errorMessage(error) }, 'cannot sync the spool; a power cut could lose reports');
      pending -= 1;
      if (pending > 0) return;
      this.resultSync = null;
      if (this.closed) return;
      for (const [id] of batch) this.unsyncedResults.delete(id);
      if (this.unsyncedResults.size > 0) {
        this.resultSync = 'scheduled';
        setImmediate(() => this.syncResults());
      }
      this.onSynced();
    };
    for (const segment of segments) {
      segment.syncing += 1;
      fdatasync(segment.fd, (error) => {
        segment.syncing -= 1;
        if (segment.syncing === 0 && segment.released) closeSync(segment.fd);
        synced(error);
      });
    }
    synced(null);
  }

  private syncSoon(): void {
    this.unsynced = true;
    if (this.syncTimer !== undefined) return;
    this.syncTimer = setTimeout(() => this.syncNow(), this.syncDelayMs);
    this.syncTimer.unref();
  }

  private segmentPath(number: number): string {
    return join(this.options.dir, `segment-${String(number).padStart(10, '0')}.log`);
  }
}

/** Closes a segment's descriptor now, or once the background syncs running on it are done. */
function releaseFd(segment: Segment): void {
  segment.released = true;
  if (segment.syncing === 0) closeSync(segment.fd);
}

function writeFully(fd: number, buffer: Buffer, position: number): void {
  let written = 0;
  while (written < buffer.length) {
    written += writeSync(fd, buffer, written, buffer.length - written, position + written);
  }
}

function readFully(fd: number, buffer: Buffer, position: number): void {
  let read = 0;
  while (read < buffer.length) {
    const n = readSync(fd, buffer, read, buffer.length - read, position + read);
    if (n === 0) throw new Error('spool segment is shorter than its index says');
    read += n;
  }
}
