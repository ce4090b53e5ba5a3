import { outputDroppedMarker, type OutputStream } from '@outpost/protocol';

export interface OutputCapOptions {
  /** Bytes kept in all: the first half as it comes, the last half at the end. */
  capBytes: number;
  write: (stream: OutputStream, data: Buffer) => void;
}

const STREAMS: readonly OutputStream[] = ['stdout', 'stderr'];

/**
 * Keeps both ends of one execution's output, because the error that matters is usually at the
 * end: the head (half the cap) passes through at once; after it, output goes into a ring of the
 * last half-cap, and what falls out of the ring is only counted. At the end a marker per stream
 * stands where bytes were dropped, followed by the ring. Memory: one buffer of half the cap,
 * allocated only once the head is spent, plus one small record per switch between streams.
 */
export class OutputCap {
  private headLeft: number;
  private readonly tailBytes: number;
  private ring: Buffer | null = null;
  /** Index in `ring` of the oldest byte held, and how many are held. */
  private start = 0;
  private held = 0;
  /** Which stream the held bytes came from, oldest first, as runs; `runsFrom` is the first live one. */
  private runs: Array<{ stream: OutputStream; length: number }> = [];
  private runsFrom = 0;
  private readonly dropped: Record<OutputStream, number> = { stdout: 0, stderr: 0 };

  constructor(private readonly options: OutputCapOptions) {
    this.headLeft = Math.floor(options.capBytes / 2);
    this.tailBytes = options.capBytes - this.headLeft;
  }

  /** True while output passes straight through; after the head only memory is touched. */
  get passing(): boolean {
    return this.headLeft > 0;
  }

  write(stream: OutputStream, data: Buffer): void {
    if (data.length === 0) return;
    if (this.headLeft > 0) {
      const head = data.subarray(0, this.headLeft);
      this.headLeft -= head.length;
      this.options.write(stream, head);
      data = data.subarray(head.length);
      if (data.length === 0) return;
    }
    if (data.length > this.tailBytes) {
      this.dropped[stream] += data.length - this.tailBytes;
      data = data.subarray(data.length - this.tailBytes);
    }
    this.evict(this.held + data.length - this.tailBytes);
    this.store(stream, data);
  }

  /** The output is over: markers where bytes were dropped, then the tail. Returns the bytes dropped. */
  end(): number {
    for (const stream of STREAMS) {
      if (this.dropped[stream] > 0) this.options.write(stream, Buffer.from(outputDroppedMarker(this.dropped[stream])));
    }
    const ring = this.ring;
    let at = this.start;
    for (const run of this.runs.slice(this.runsFrom)) {
      if (ring === null) break;
      const first = Math.min(run.length, ring.length - at);
      this.options.write(run.stream, ring.subarray(at, at + first));
      if (first < run.length) this.options.write(run.stream, ring.subarray(0, run.length - first));
      at = (at + run.length) % ring.length;
    }
    this.ring = null;
    this.runs = [];
    this.held = 0;
    return this.dropped.stdout + this.dropped.stderr;
  }

  private evict(bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const run = this.runs[this.runsFrom]!;
      const taken = Math.min(run.length, left);
      run.length -= taken;
      this.dropped[run.stream] += taken;
      left -= taken;
      if (run.length === 0) this.runsFrom += 1;
    }
    if (bytes > 0) {
      this.start = (this.start + bytes) % this.tailBytes;
      this.held -= bytes;
    }
    // Compacted now and then, so a stream switching back and forth never grows the list for good.
    if (this.runsFrom > 1024 && this.runsFrom * 2 > this.runs.length) {
      this.runs = this.runs.slice(this.runsFrom);
      this.runsFrom = 0;
    }
  }

  private store(stream: OutputStream, data: Buffer): void {
    this.ring ??= Buffer.allocUnsafe(this.tailBytes);
    const ring = this.ring;
    const at = (this.start + this.held) % ring.length;
    const first = Math.min(data.length, ring.length - at);
    data.copy(ring, at, 0, first);
    if (first < data.length) data.copy(ring, 0, first);
    this.held += data.length;
    const last = this.runs.at(-1);
    if (last !== undefined && this.runs.length > this.runsFrom && last.stream === stream) last.length += data.length;
    else this.runs.push({ stream, length: data.length });
  }
}
