import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ExecutionDispatcher } from './execution-dispatcher';
import { ExecutionLifecycleService } from './execution-lifecycle.service';
import { ExecutionsController } from './executions.controller';
import { ExecutionsService } from './executions.service';
import { RunProgressService } from './run-progress.service';
import { RunsController } from './runs.controller';
import { RunsService } from './runs.service';

@Module({
  imports: [AgentsModule],
  controllers: [RunsController, ExecutionsController],
  providers: [RunsService, ExecutionsService, ExecutionDispatcher, RunProgressService, ExecutionLifecycleService],
  exports: [ExecutionsService, ExecutionDispatcher],
})
export class ExecutionsModule {}
