import { Controller, Get, Headers, HttpCode, Post, Res, StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import { type AuthenticatedUser, CurrentUser } from '../auth/authenticated-user';
import { EXECUTION_STATUSES } from './execution-state';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { csvEnum, paginationSchema, timeRangeSchema, uuidSchema } from '../common/validation/common-schemas';
import { parseOrThrow, ValidParam, ValidQuery } from '../common/validation/zod-body';
import { ExecutionOutputService } from './execution-output.service';
import { EXECUTION_SORT_FIELDS, ExecutionsService } from './executions.service';
import { chunkData, type OutputChunkRow } from './output-encoding';
import { OutputStreamService } from './output-stream.service';

const listSchema = paginationSchema.extend(timeRangeSchema.shape).extend({
  status: csvEnum(EXECUTION_STATUSES).optional(),
  agentId: uuidSchema.optional(),
  runId: uuidSchema.optional(),
  jobId: uuidSchema.optional(),
  sort: z.enum(EXECUTION_SORT_FIELDS).default('createdAt'),
});

const outputQuerySchema = z.object({
  stream: z.enum(['stdout', 'stderr', 'combined']).default('combined'),
  /** Bytes of the selected output to skip: a poller passes the previous X-Output-Next-Offset. */
  offset: z.coerce.number().int().min(0).default(0),
  format: z.enum(['text', 'raw', 'jsonl']).default('text'),
});

/** The seq of the last chunk the client has, sent back by EventSource when it reconnects. */
const lastEventIdSchema = z.coerce.number().int().min(0).optional();

@ApiTags('executions')
@ApiBearerAuth()
@Controller('api/v1/executions')
export class ExecutionsController {
  constructor(
    private readonly executions: ExecutionsService,
    private readonly storedOutput: ExecutionOutputService,
    private readonly outputStream: OutputStreamService,
  ) {}

  @Get()
  list(@ValidQuery(listSchema) query: z.infer<typeof listSchema>) {
    return this.executions.list(query);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@ValidParam('id', uuidSchema) id: string, @CurrentUser() user: AuthenticatedUser) {
    return this.executions.cancel(id, user.id);
  }

  @Get(':id')
  get(@ValidParam('id', uuidSchema) id: string) {
    return this.executions.get(id);
  }

  /**
   * Stored output from byte `offset` on: `text` is UTF-8 with invalid sequences replaced (U+FFFD),
   * `raw` the exact bytes, `jsonl` one JSON object per chunk (see output-encoding.ts).
   */
  @Get(':id/output')
  @ApiProduces('text/plain', 'application/octet-stream', 'application/x-ndjson')
  async output(
    @ValidParam('id', uuidSchema) id: string,
    @ValidQuery(outputQuerySchema) query: z.infer<typeof outputQuerySchema>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const chunks = await this.storedOutput.read(id, query.stream, query.offset);
    const bytes = chunks.reduce((sum, chunk) => sum + chunk.data.length, 0);
    res.setHeader('X-Output-Next-Offset', String(query.offset + bytes));
    return outputBody(chunks, query.format);
  }

  /** Server-Sent Events: `status`, `output` (id = chunk seq, resumable with Last-Event-ID), `complete`. */
  @Get(':id/stream')
  @ApiProduces('text/event-stream')
  async stream(
    @ValidParam('id', uuidSchema) id: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const lastSeq = parseOrThrow(lastEventIdSchema, lastEventId, 'Last-Event-ID');
    await this.outputStream.follow(id, lastSeq ?? -1, res);
  }
}

function outputBody(chunks: OutputChunkRow[], format: 'text' | 'raw' | 'jsonl'): StreamableFile {
  switch (format) {
    case 'text': {
      const bytes = Buffer.concat(chunks.map((chunk) => chunk.data));
      return new StreamableFile(Buffer.from(new TextDecoder('utf-8').decode(bytes), 'utf8'), { type: 'text/plain; charset=utf-8' });
    }
    case 'raw':
      return new StreamableFile(Buffer.concat(chunks.map((chunk) => chunk.data)), { type: 'application/octet-stream' });
    case 'jsonl': {
      const lines = chunks.map(({ seq, stream, offset, at, data }) =>
        JSON.stringify({ seq, stream, offset, at: at.toISOString(), ...chunkData(data) }),
      );
      return new StreamableFile(Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8'), { type: 'application/x-ndjson' });
    }
  }
}
