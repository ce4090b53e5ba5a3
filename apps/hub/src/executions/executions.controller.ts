import { Controller, Get, Header, HttpCode, Post, StreamableFile } from '@nestjs/common';
import { type AuthenticatedUser, CurrentUser } from '../auth/authenticated-user';
import { EXECUTION_STATUSES } from './execution-state';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { csvEnum, paginationSchema, timeRangeSchema, uuidSchema } from '../common/validation/common-schemas';
import { ValidParam, ValidQuery } from '../common/validation/zod-body';
import { EXECUTION_SORT_FIELDS, ExecutionsService } from './executions.service';

const listSchema = paginationSchema.extend(timeRangeSchema.shape).extend({
  status: csvEnum(EXECUTION_STATUSES).optional(),
  agentId: uuidSchema.optional(),
  runId: uuidSchema.optional(),
  sort: z.enum(EXECUTION_SORT_FIELDS).default('createdAt'),
});

const outputQuerySchema = z.object({
  stream: z.enum(['stdout', 'stderr', 'combined']).default('combined'),
});

@ApiTags('executions')
@ApiBearerAuth()
@Controller('api/v1/executions')
export class ExecutionsController {
  constructor(private readonly executions: ExecutionsService) {}

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

  /** Output bytes served as UTF-8 text, invalid sequences replaced (DESIGN.md §4). */
  @Get(':id/output')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  async output(
    @ValidParam('id', uuidSchema) id: string,
    @ValidQuery(outputQuerySchema) query: z.infer<typeof outputQuerySchema>,
  ): Promise<StreamableFile> {
    const bytes = await this.executions.output(id, query.stream);
    return new StreamableFile(Buffer.from(new TextDecoder('utf-8').decode(bytes), 'utf8'));
  }
}
