import { Module } from '@nestjs/common';
import { EnrollmentModule } from '../enrollment/enrollment.module';
import { HealthSamplesModule } from '../health-samples/health-samples.module';
import { AgentCommandsService } from './agent-commands.service';
import { StatsController } from './stats.controller';
import { AgentConnections } from './agent-connections';
import { AgentPresenceService } from './agent-presence.service';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';
import { LocalAgentService } from './local-agent.service';

@Module({
  imports: [EnrollmentModule, HealthSamplesModule],
  controllers: [AgentsController, StatsController],
  providers: [AgentsService, AgentConnections, AgentPresenceService, LocalAgentService, AgentCommandsService],
  exports: [AgentsService, AgentConnections, AgentPresenceService, HealthSamplesModule],
})
export class AgentsModule {}
