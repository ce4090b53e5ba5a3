import { describe, expect, it } from 'vitest';
import { chunkData } from './output-encoding';
import { OutputEvents } from './output-events';

describe('OutputEvents', () => {
  it('wakes the subscribers of one execution at its next notice, and no one else', async () => {
    const events = new OutputEvents();
    const woken: string[] = [];
    const a = events.subscribe('a', 60_000);
    const b = events.subscribe('b', 60_000);
    void a.woken.then(() => woken.push('a'));
    void b.woken.then(() => woken.push('b'));
    events.notify('a');
    await a.woken;
    expect(woken).toEqual(['a']);
    b.cancel();
    await b.woken;
    expect(woken).toEqual(['a', 'b']);
  });

  it('wakes a subscriber after its timeout without a notice', async () => {
    const events = new OutputEvents();
    const started = Date.now();
    await events.subscribe('a', 30).woken;
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});

describe('chunkData', () => {
  it('carries valid UTF-8 as text and anything else as exact base64', () => {
    expect(chunkData(Buffer.from('h\u00e9llo\n'))).toEqual({ data: 'h\u00e9llo\n' });
    expect(chunkData(Buffer.from([0xff, 0x41]))).toEqual({ dataBase64: Buffer.from([0xff, 0x41]).toString('base64') });
    // A character cut in two by a chunk boundary is not valid on its own.
    expect(chunkData(Buffer.from('\u00e9').subarray(0, 1))).toHaveProperty('dataBase64');
  });
});
