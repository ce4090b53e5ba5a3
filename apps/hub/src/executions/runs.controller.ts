import { Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser } from '../auth/authenticated-user';
import { uuidSchema } from '../common/validation/common-schemas';
import { ApiZodBody, ValidBody, ValidParam } from '../common/validation/zod-body';
import { type RunRequest, runRequestSchema } from './run-request.schema';
import { RunsService } from './runs.service';

@ApiTags('runs')
@ApiBearerAuth()
@Controller('api/v1/runs')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post()
  @ApiZodBody(runRequestSchema)
  create(@ValidBody(runRequestSchema) body: RunRequest, @CurrentUser() user: AuthenticatedUser) {
    return this.runs.create(body, user.id);
  }

  @Get(':id')
  get(@ValidParam('id', uuidSchema) id: string) {
    return this.runs.get(id);
  }
}
