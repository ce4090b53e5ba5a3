import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AgentsService } from './agents.service';

/** Fleet summary for the dashboard. */
@ApiTags('agents')
@ApiBearerAuth()
@Controller('api/v1/stats')
export class StatsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  stats() {
    return this.agents.stats();
  }
}
