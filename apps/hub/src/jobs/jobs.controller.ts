import { Controller, Delete, Get, HttpCode, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
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
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('api/v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

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
  replace(@ValidParam('id', uuidSchema) id: string, @ValidBody(jobSchema) body: JobInput) {
    return this.jobs.replace(id, body);
  }

  @Patch(':id')
  @ApiZodBody(jobPatchSchema)
  update(@ValidParam('id', uuidSchema) id: string, @ValidBody(jobPatchSchema) body: JobPatch) {
    return this.jobs.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  delete(@ValidParam('id', uuidSchema) id: string): Promise<void> {
    return this.jobs.delete(id);
  }

  @Post(':id/run')
  @ApiZodBody(runOverridesSchema)
  run(
    @ValidParam('id', uuidSchema) id: string,
    @ValidBody(runOverridesSchema) body: RunOverrides,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    return this.jobs.run(id, body, user.id);
  }
}
