import { isUtf8 } from 'node:buffer';

/** One stored chunk as the API shows it. */
export interface OutputChunkRow {
  seq: number;
  stream: 'stdout' | 'stderr';
  /** Byte offset of `data` within the selected output. */
  offset: number;
  at: Date;
  data: Buffer;
}

/**
 * The encoding rule for output in JSON (jsonl lines, SSE events): `data` is the chunk as a string
 * when its bytes are valid UTF-8, otherwise `dataBase64` carries the exact bytes. Nothing is
 * replaced or lost; a client that wants text decodes `dataBase64` with the code page it knows.
 * A chunk cut inside a multi-byte character is not valid UTF-8 on its own, so it comes as base64.
 */
export function chunkData(data: Buffer): { data: string } | { dataBase64: string } {
  return isUtf8(data) ? { data: data.toString('utf8') } : { dataBase64: data.toString('base64') };
}
