import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../common/errors/app-error';
import { Execution } from './execution.entity';
import type { OutputChunkRow } from './output-encoding';

export type OutputSelection = 'stdout' | 'stderr' | 'combined';

interface Row {
  seq: number;
  stream: 'stdout' | 'stderr';
  at: Date | string;
  data: Uint8Array;
  position: string | number;
}

/**
 * Reads stored output. Offsets are byte offsets into the selected output (one stream, or both
 * interleaved in `seq` order), computed from chunk lengths, which PostgreSQL knows without
 * reading the bytes.
 */
@Injectable()
export class ExecutionOutputService {
  constructor(private readonly em: EntityManager) {}

  /** Everything from byte `offset` of the selection on, chunk by chunk, the first chunk cut at `offset`. */
  async read(executionId: string, selection: OutputSelection, offset: number): Promise<OutputChunkRow[]> {
    const em = this.em.fork();
    if ((await em.count(Execution, { id: executionId })) === 0) throw AppError.notFound('Execution', executionId);
    const rows = await em.execute<Row[]>(
      `select seq, stream, at, data, position from (
         select seq, stream, created_at as at, data,
                sum(octet_length(data)) over (order by seq) - octet_length(data) as position
           from execution_output
          where execution_id = ?${selection === 'combined' ? '' : ' and stream = ?'}
       ) chunks
       where position + octet_length(data) > ?
       order by seq`,
      selection === 'combined' ? [executionId, offset] : [executionId, selection, offset],
    );
    return rows.map((row) => {
      const position = Number(row.position);
      const cut = Math.max(0, offset - position);
      return { seq: row.seq, stream: row.stream, offset: position + cut, at: new Date(row.at), data: asBuffer(row.data).subarray(cut) };
    });
  }

  /** Up to `limit` chunks of both streams after `afterSeq`, in order: what a live follower has not seen. */
  async after(executionId: string, afterSeq: number, limit: number): Promise<Omit<OutputChunkRow, 'offset'>[]> {
    const rows = await this.em.fork().execute<Omit<Row, 'position'>[]>(
      `select seq, stream, created_at as at, data from execution_output
        where execution_id = ? and seq > ? order by seq limit ?`,
      [executionId, afterSeq, limit],
    );
    return rows.map((row) => ({ seq: row.seq, stream: row.stream, at: new Date(row.at), data: asBuffer(row.data) }));
  }
}

/** PostgreSQL's driver gives a Buffer, PGlite a Uint8Array: the same bytes either way, not copied. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
