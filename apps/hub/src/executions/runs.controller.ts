import { Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { z } from 'zod';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { type AuditedRequest, auditCreatedNow } from '../audit/audit-recorder.middleware';
import { type AuthenticatedUser, CurrentUser } from '../auth/authenticated-user';
import { csvEnum, paginationSchema, timeRangeSchema, uuidSchema } from '../common/validation/common-schemas';
import { ApiZodBody, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-body';
import { type RunRequest, runRequestSchema, type RunWait, runWaitSchema } from './run-request.schema';
import { RUN_SORT_FIELDS, RunsService } from './runs.service';

const listSchema = paginationSchema.extend(timeRangeSchema.shape).extend({
  status: csvEnum(['pending', 'running', 'succeeded', 'failed', 'canceled']).optional(),
  jobId: uuidSchema.optional(),
  sort: z.enum(RUN_SORT_FIELDS).default('createdAt'),
});


/** No body at all repeats every target. */
const rerunSchema = z.object({ only: z.literal('failed', 'must be "failed"').optional() }).strict().default({});

@ApiTags('runs')
@ApiBearerAuth()
@Controller('api/v1/runs')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post()
  @ApiZodBody(runRequestSchema)
  async create(
    @ValidBody(runRequestSchema) body: RunRequest,
    @ValidQuery(runWaitSchema) query: RunWait,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: AuditedRequest,
  ) {
    const run = await this.runs.create(body, { requestedBy: user.id, trigger: 'manual' });
    if (query.wait === 0) return run;
    auditCreatedNow(req, run.id);
    return this.runs.awaitEnd(run, query.wait);
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
  get(@ValidParam('id', uuidSchema) id: string, @ValidQuery(runWaitSchema) query: RunWait) {
    return this.runs.get(id, query.wait);
  }
}
