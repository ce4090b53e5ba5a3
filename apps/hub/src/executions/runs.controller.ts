import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { z } from 'zod';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser } from '../auth/authenticated-user';
import { csvEnum, paginationSchema, timeRangeSchema, uuidSchema } from '../common/validation/common-schemas';
import { ApiZodBody, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-body';
import { type RunRequest, runRequestSchema } from './run-request.schema';
import { RUN_SORT_FIELDS, RunsService } from './runs.service';

const listSchema = paginationSchema.extend(timeRangeSchema.shape).extend({
  status: csvEnum(['pending', 'running', 'succeeded', 'failed', 'canceled']).optional(),
  jobId: uuidSchema.optional(),
  sort: z.enum(RUN_SORT_FIELDS).default('createdAt'),
});

/** `wait`: answer once the run has ended, or after this many seconds. */
const getSchema = z.object({ wait: z.coerce.number().int().min(0).max(60).default(0) });

/** No body at all repeats every target. */
const rerunSchema = z.object({ only: z.literal('failed', 'must be "failed"').optional() }).strict().default({});

@ApiTags('runs')
@ApiBearerAuth()
@Controller('api/v1/runs')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post()
  @ApiZodBody(runRequestSchema)
  create(@ValidBody(runRequestSchema) body: RunRequest, @CurrentUser() user: AuthenticatedUser) {
    return this.runs.create(body, { requestedBy: user.id, trigger: 'manual' });
  }

  @Get()
  list(@ValidQuery(listSchema) query: z.infer<typeof listSchema>) {
    return this.runs.list(query);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@ValidParam('id', uuidSchema) id: string, @CurrentUser() user: AuthenticatedUser) {
    return this.runs.cancel(id, user.id);
  }

  @Post(':id/rerun')
  @ApiZodBody(rerunSchema)
  rerun(
    @ValidParam('id', uuidSchema) id: string,
    @ValidBody(rerunSchema) body: z.infer<typeof rerunSchema>,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    return this.runs.rerun(id, body.only, user.id);
  }

  @Get(':id')
  get(@ValidParam('id', uuidSchema) id: string, @ValidQuery(getSchema) query: z.infer<typeof getSchema>) {
    return this.runs.get(id, query.wait);
  }
}
