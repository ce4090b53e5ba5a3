import { Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { labelsSchema, paginationSchema, uuidSchema } from '../common/validation/common-schemas';
import { labelSelectorSchema } from '../common/validation/label-selector';
import { ApiZodBody, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-body';
import { HealthSamplesService } from '../health-samples/health-samples.service';
import { AgentCommandsService } from './agent-commands.service';
import { AGENT_SORT_FIELDS, AgentsService } from './agents.service';

const enrollSchema = z.object({
  token: z.string().min(1).max(256),
  name: z.string().min(1).max(128).optional(),
  hostname: z.string().min(1).max(255),
  os: z.string().min(1).max(64),
  arch: z.string().min(1).max(32),
  agentVersion: z.string().min(1).max(64),
  replace: z.boolean().optional(),
  previous: z.object({ agentId: uuidSchema, credential: z.string().min(1).max(256) }).optional(),
});

const listSchema = paginationSchema.extend({
  status: z.enum(['online', 'offline']).optional(),
  labels: labelSelectorSchema.optional(),
  os: z.string().max(64).optional(),
  search: z.string().max(255).optional(),
  sort: z.enum(AGENT_SORT_FIELDS).default('enrolledAt'),
});

const patchSchema = z
  .object({ name: z.string().trim().min(1).max(128).optional(), labels: labelsSchema.optional() })
  .refine((p) => p.name !== undefined || p.labels !== undefined, 'give name or labels');

const DAY_MS = 24 * 3600_000;
const healthQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .transform((q) => {
    const to = q.to ? new Date(q.to) : new Date();
    return { to, from: q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS) };
  })
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['from'] });

@ApiTags('agents')
@Controller('api/v1/agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly commands: AgentCommandsService,
    private readonly health: HealthSamplesService,
  ) {}

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

  @Post('check')
  @HttpCode(200)
  @ApiBearerAuth()
  check() {
    return this.commands.check();
  }

  @Get(':id')
  @ApiBearerAuth()
  get(@ValidParam('id', uuidSchema) id: string) {
    return this.agents.get(id);
  }

  @Patch(':id')
  @ApiBearerAuth()
  @ApiZodBody(patchSchema)
  update(@ValidParam('id', uuidSchema) id: string, @ValidBody(patchSchema) body: z.infer<typeof patchSchema>) {
    return this.agents.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiBearerAuth()
  revoke(@ValidParam('id', uuidSchema) id: string): Promise<void> {
    return this.agents.revoke(id);
  }

  @Post(':id/ping')
  @HttpCode(200)
  @ApiBearerAuth()
  ping(@ValidParam('id', uuidSchema) id: string) {
    return this.commands.ping(id);
  }

  @Post(':id/rotate-credential')
  @HttpCode(200)
  @ApiBearerAuth()
  rotateCredential(@ValidParam('id', uuidSchema) id: string) {
    return this.commands.rotateCredential(id);
  }

  @Get(':id/health')
  @ApiBearerAuth()
  async healthSeries(@ValidParam('id', uuidSchema) id: string, @ValidQuery(healthQuerySchema) query: z.infer<typeof healthQuerySchema>) {
    await this.agents.get(id);
    const items = await this.health.series(id, query.from, query.to);
    return { items, from: query.from.toISOString(), to: query.to.toISOString() };
  }
}
