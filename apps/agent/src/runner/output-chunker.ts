import type { OutputStream } from '@outpost/protocol';

export interface OutputChunk {
  seq: number;
  stream: OutputStream;
  offset: number;
  data: Buffer;
}

export interface OutputChunkerOptions {
  maxChunkBytes: number;
  /** How long small writes may wait to be sent together; short enough that output stays live. */
  coalesceMs: number;
  emit: (chunk: OutputChunk) => void;
}

/**
 * Turns the writes of one execution's stdout and stderr into numbered chunks: `seq` counts chunks
 * across both streams in emission order, `offset` is the byte position within the chunk's stream.
 * Only one stream is pending at a time (a write to the other stream sends it first), so the
 * chunk order keeps the order in which the two streams wrote.
 */
export class OutputChunker {
  private seq = 0;
  private readonly offsets: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  private pendingStream: OutputStream = 'stdout';
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutputChunkerOptions) {}

  /** Chunks emitted so far: the next `seq`. */
  get chunkCount(): number {
    return this.seq;
  }

  write(stream: OutputStream, data: Buffer): void {
    if (data.length === 0) return;
    if (this.pendingBytes > 0 && stream !== this.pendingStream) this.flush();
    this.pendingStream = stream;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= this.options.maxChunkBytes) {
      this.emitPending(false);
    }
    if (this.pendingBytes > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.options.coalesceMs);
    }
  }

  /** Sends everything pending now (end of output, or the coalescing delay is over). */
  flush(): void {
    this.emitPending(true);
  }

  private emitPending(includePartial: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingBytes === 0) return;
    const { maxChunkBytes } = this.options;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    let start = 0;
    while (data.length - start >= maxChunkBytes || (includePartial && start < data.length)) {
      const piece = data.subarray(start, Math.min(start + maxChunkBytes, data.length));
      this.options.emit({
        seq: this.seq++,
        stream: this.pendingStream,
        offset: this.offsets[this.pendingStream],
        data: piece,
      });
      this.offsets[this.pendingStream] += piece.length;
      start += piece.length;
    }
    const rest = data.subarray(start);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
  }
}
