import type { OutputStream } from '@outpost/protocol';
import { describe, expect, it } from 'vitest';
import { OutputCap } from './output-cap';

function capture(capBytes: number) {
  const out: Array<{ stream: OutputStream; data: Buffer }> = [];
  const cap = new OutputCap({ capBytes, write: (stream, data) => out.push({ stream, data: Buffer.from(data) }) });
  const text = (stream?: OutputStream) =>
    Buffer.concat(out.filter((o) => stream === undefined || o.stream === stream).map((o) => o.data)).toString();
  return { cap, out, text };
}

describe('OutputCap', () => {
  it('passes output under the cap straight through, with nothing dropped', () => {
    const { cap, text } = capture(1024);
    cap.write('stdout', Buffer.from('hello '));
    cap.write('stderr', Buffer.from('oops\n'));
    cap.write('stdout', Buffer.from('world\n'));
    expect(cap.end()).toBe(0);
    expect(text()).toBe('hello oops\nworld\n');
  });

  it('keeps the first and the last half-cap with a marker per stream between', () => {
    const { cap, text } = capture(1024);
    cap.write('stdout', Buffer.alloc(512, 'h'));
    expect(cap.passing).toBe(false);
    cap.write('stderr', Buffer.alloc(100, 'e'));
    cap.write('stdout', Buffer.alloc(2000, 'm'));
    cap.write('stdout', Buffer.alloc(500, 't'));
    cap.write('stderr', Buffer.from('END'));
    expect(cap.end()).toBe(100 + 2000 - (512 - 500 - 3));
    expect(text()).toBe(
      `${'h'.repeat(512)}\n[outpost: ${2000 - 9} bytes dropped]\n\n[outpost: 100 bytes dropped]\n${'m'.repeat(9)}${'t'.repeat(500)}END`,
    );
    expect(text('stderr')).toBe('\n[outpost: 100 bytes dropped]\nEND');
  });

  it('matches a plain model for any mix of writes: head, tail in order, bytes dropped per stream', () => {
    for (let trial = 0; trial < 50; trial += 1) {
      const capBytes = 1024 + Math.floor(Math.random() * 512);
      const { cap, out } = capture(capBytes);
      const written: Array<{ stream: OutputStream; byte: number }> = [];
      for (let i = 0; i < 200; i += 1) {
        const stream: OutputStream = Math.random() < 0.3 ? 'stderr' : 'stdout';
        const data = Buffer.from(Array.from({ length: Math.floor(Math.random() * 300) }, () => Math.floor(Math.random() * 256)));
        for (const byte of data) written.push({ stream, byte });
        cap.write(stream, data);
      }
      const dropped = cap.end();
      const head = Math.floor(capBytes / 2);
      const tail = capBytes - head;
      const middle = written.slice(head, Math.max(head, written.length - tail));
      expect(dropped).toBe(middle.length);
      const kept = [...written.slice(0, head), ...written.slice(head + middle.length)];
      const markers = (['stdout', 'stderr'] as const)
        .map((stream) => ({ stream, count: middle.filter((w) => w.stream === stream).length }))
        .filter((m) => m.count > 0);
      const received = Buffer.concat(out.map((o) => o.data));
      const markerText = markers.map((m) => `\n[outpost: ${m.count} bytes dropped]\n`).join('');
      expect(received).toEqual(
        Buffer.concat([
          Buffer.from(kept.slice(0, head).map((w) => w.byte)),
          Buffer.from(markerText),
          Buffer.from(kept.slice(head).map((w) => w.byte)),
        ]),
      );
      const keptStreams = out.flatMap((o) => (o.data.toString().startsWith('\n[outpost:') ? [] : [...o.data].map(() => o.stream)));
      expect(keptStreams).toEqual(kept.map((w) => w.stream));
    }
  });
});
