import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { paginationSchema, uuidSchema } from '../common/validation/common-schemas';
import { labelSelectorSchema } from '../common/validation/label-selector';
import { ApiZodBody, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-body';
import { AgentsService } from './agents.service';

const enrollSchema = z.object({
  token: z.string().min(1).max(256),
  name: z.string().min(1).max(128).optional(),
  hostname: z.string().min(1).max(255),
  os: z.string().min(1).max(64),
  arch: z.string().min(1).max(32),
  agentVersion: z.string().min(1).max(64),
});

const listSchema = paginationSchema.extend({
  status: z.enum(['online', 'offline']).optional(),
  labels: labelSelectorSchema.optional(),
});

@ApiTags('agents')
@Controller('api/v1/agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  /** Called by `outpost-agent enroll` with an enrollment token instead of a user token. */
  @Post('enroll')
  @ApiZodBody(enrollSchema)
  enroll(@ValidBody(enrollSchema) body: z.infer<typeof enrollSchema>) {
    return this.agents.enroll(body);
  }

  @Get()
  @ApiBearerAuth()
  list(@ValidQuery(listSchema) query: z.infer<typeof listSchema>) {
    return this.agents.list(query);
  }

  @Get(':id')
  @ApiBearerAuth()
  get(@ValidParam('id', uuidSchema) id: string) {
    return this.agents.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiBearerAuth()
  revoke(@ValidParam('id', uuidSchema) id: string): Promise<void> {
    return this.agents.revoke(id);
  }
}
