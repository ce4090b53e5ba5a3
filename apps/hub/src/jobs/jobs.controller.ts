import { Controller, Delete, Get, HttpCode, Patch, Post, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { type AuditedRequest, auditCreatedNow } from '../audit/audit-recorder.middleware';
import { type AuthenticatedUser, CurrentUser } from '../auth/authenticated-user';
import { uuidSchema } from '../common/validation/common-schemas';
import { ApiZodBody, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-body';
import {
  type JobInput,
  type JobListQuery,
  jobListSchema,
  type JobPatch,
  jobPatchSchema,
  jobSchema,
  type RunOverrides,
  runOverridesSchema,
} from './job.schemas';
import { type RunWait, runWaitSchema } from '../executions/run-request.schema';
import { RunsService } from '../executions/runs.service';
import { nextRunsQuerySchema } from '../schedules/schedule.schema';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('api/v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly runs: RunsService,
  ) {}

  @Post()
  @ApiZodBody(jobSchema)
  create(@ValidBody(jobSchema) body: JobInput, @CurrentUser() user: AuthenticatedUser) {
    return this.jobs.create(body, user.id);
  }

  @Get()
  list(@ValidQuery(jobListSchema) query: JobListQuery) {
    return this.jobs.list(query);
  }

  @Get(':id')
  get(@ValidParam('id', uuidSchema) id: string) {
    return this.jobs.get(id);
  }

  @Put(':id')
  @ApiZodBody(jobSchema)
  replace(@ValidParam('id', uuidSchema) id: string, @ValidBody(jobSchema) body: JobInput, @CurrentUser() user: AuthenticatedUser) {
    return this.jobs.replace(id, body, user.id);
  }

  @Patch(':id')
  @ApiZodBody(jobPatchSchema)
  update(@ValidParam('id', uuidSchema) id: string, @ValidBody(jobPatchSchema) body: JobPatch, @CurrentUser() user: AuthenticatedUser) {
    return this.jobs.update(id, body, user.id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  pause(@ValidParam('id', uuidSchema) id: string, @CurrentUser() user: AuthenticatedUser) {
    return this.jobs.pause(id, user.id);
  }

  @Post(':id/resume')
  @HttpCode(200)
  resume(@ValidParam('id', uuidSchema) id: string, @CurrentUser() user: AuthenticatedUser) {
    return this.jobs.resume(id, user.id);
  }

  @Get(':id/next-runs')
  nextRuns(@ValidParam('id', uuidSchema) id: string, @ValidQuery(nextRunsQuerySchema) query: { count: number }) {
    return this.jobs.nextRuns(id, query.count);
  }

  @Delete(':id')
  @HttpCode(204)
  delete(@ValidParam('id', uuidSchema) id: string): Promise<void> {
    return this.jobs.delete(id);
  }

  @Post(':id/run')
  @ApiZodBody(runOverridesSchema)
  async run(
    @ValidParam('id', uuidSchema) id: string,
    @ValidBody(runOverridesSchema) body: RunOverrides,
    @ValidQuery(runWaitSchema) query: RunWait,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: AuditedRequest,
  ) {
    const run = await this.jobs.run(id, body, user.id);
    if (query.wait === 0) return run;
    auditCreatedNow(req, run.id);
    return this.runs.awaitEnd(run, query.wait);
  }
}
