import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutputChunker, type OutputChunk } from './output-chunker';

function chunker(maxChunkBytes: number, coalesceMs = 20) {
  const chunks: OutputChunk[] = [];
  const instance = new OutputChunker({ maxChunkBytes, coalesceMs, emit: (chunk) => chunks.push(chunk) });
  const view = () => chunks.map((c) => ({ seq: c.seq, stream: c.stream, offset: c.offset, data: c.data.toString() }));
  return { instance, chunks, view };
}

describe('OutputChunker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('numbers chunks across both streams and keeps byte offsets per stream', () => {
    const { instance, view } = chunker(4);
    instance.write('stdout', Buffer.from('abcdefghij'));
    instance.write('stderr', Buffer.from('XY'));
    instance.write('stdout', Buffer.from('kl'));
    instance.flush();
    expect(view()).toEqual([
      { seq: 0, stream: 'stdout', offset: 0, data: 'abcd' },
      { seq: 1, stream: 'stdout', offset: 4, data: 'efgh' },
      { seq: 2, stream: 'stdout', offset: 8, data: 'ij' },
      { seq: 3, stream: 'stderr', offset: 0, data: 'XY' },
      { seq: 4, stream: 'stdout', offset: 10, data: 'kl' },
    ]);
    expect(instance.chunkCount).toBe(5);
  });

  it('never emits a chunk larger than the limit', () => {
    const { instance, chunks } = chunker(1000);
    for (let i = 0; i < 50; i += 1) instance.write('stdout', Buffer.alloc(333, 'x'));
    instance.flush();
    expect(Math.max(...chunks.map((c) => c.data.length))).toBeLessThanOrEqual(1000);
    expect(chunks.reduce((sum, c) => sum + c.data.length, 0)).toBe(50 * 333);
    const last = chunks[chunks.length - 1];
    expect(last.offset + last.data.length).toBe(50 * 333);
  });

  it('coalesces small writes and sends them after the delay, without waiting for the end', () => {
    vi.useFakeTimers();
    const { instance, view } = chunker(1024, 20);
    instance.write('stdout', Buffer.from('line 1\n'));
    instance.write('stdout', Buffer.from('line 2\n'));
    expect(view()).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(view()).toEqual([{ seq: 0, stream: 'stdout', offset: 0, data: 'line 1\nline 2\n' }]);
    instance.write('stdout', Buffer.from('line 3\n'));
    vi.advanceTimersByTime(20);
    expect(view()[1]).toEqual({ seq: 1, stream: 'stdout', offset: 14, data: 'line 3\n' });
  });

  it('sends full chunks at once and keeps only the remainder waiting', () => {
    vi.useFakeTimers();
    const { instance, view } = chunker(4, 20);
    instance.write('stdout', Buffer.from('abcdef'));
    expect(view()).toEqual([{ seq: 0, stream: 'stdout', offset: 0, data: 'abcd' }]);
    vi.advanceTimersByTime(20);
    expect(view()[1]).toEqual({ seq: 1, stream: 'stdout', offset: 4, data: 'ef' });
  });

  it('ignores empty writes', () => {
    const { instance, chunks } = chunker(4);
    instance.write('stdout', Buffer.alloc(0));
    instance.flush();
    expect(chunks).toEqual([]);
  });
});
