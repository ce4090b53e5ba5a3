import { describe, expect, it } from 'vitest';
import { chunkData } from './output-encoding';

describe('chunkData', () => {
  it('carries valid UTF-8 as text and anything else as exact base64', () => {
    expect(chunkData(Buffer.from('h\u00e9llo\n'))).toEqual({ data: 'h\u00e9llo\n' });
    expect(chunkData(Buffer.from([0xff, 0x41]))).toEqual({ dataBase64: Buffer.from([0xff, 0x41]).toString('base64') });
    // A character cut in two by a chunk boundary is not valid on its own.
    expect(chunkData(Buffer.from('\u00e9').subarray(0, 1))).toHaveProperty('dataBase64');
  });
});
