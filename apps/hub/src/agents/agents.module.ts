import { Module } from '@nestjs/common';
import { EnrollmentModule } from '../enrollment/enrollment.module';
import { AgentConnections } from './agent-connections';
import { AgentPresenceService } from './agent-presence.service';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';
import { LocalAgentService } from './local-agent.service';

@Module({
  imports: [EnrollmentModule],
  controllers: [AgentsController],
  providers: [AgentsService, AgentConnections, AgentPresenceService, LocalAgentService],
  exports: [AgentsService, AgentConnections, AgentPresenceService],
})
export class AgentsModule {}
