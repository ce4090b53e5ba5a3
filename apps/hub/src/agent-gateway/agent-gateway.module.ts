import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ExecutionsModule } from '../executions/executions.module';
import { AgentGateway } from './agent.gateway';

@Module({
  imports: [AgentsModule, ExecutionsModule],
  providers: [AgentGateway],
})
export class AgentGatewayModule {}
