import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ClusterModule } from '../cluster/cluster.module';
import { SecretBox } from '../common/crypto/secret-box';
import { HUB_SECRETS, type HubSecrets } from '../config/hub-secrets';
import { DispatchAcks } from './dispatch-acks';
import { ExecutionDispatcher } from './execution-dispatcher';
import { ExecutionLifecycleService } from './execution-lifecycle.service';
import { ExecutionOutputService } from './execution-output.service';
import { ExecutionReconciler } from './execution-reconciler.service';
import { ExecutionsController } from './executions.controller';
import { ExecutionsService } from './executions.service';
import { OutputEvents } from './output-events';
import { OutputStreamService } from './output-stream.service';
import { RunEndings } from './run-endings';
import { RunProgressService } from './run-progress.service';
import { RunRetentionService } from './run-retention.service';
import { RunTargetsService } from './run-targets.service';
import { RunsController } from './runs.controller';
import { RunsService } from './runs.service';

@Module({
  imports: [AgentsModule, ClusterModule],
  controllers: [RunsController, ExecutionsController],
  providers: [
    RunsService,
    RunTargetsService,
    ExecutionsService,
    ExecutionDispatcher,
    DispatchAcks,
    RunProgressService,
    RunRetentionService,
    ExecutionLifecycleService,
    ExecutionOutputService,
    OutputStreamService,
    OutputEvents,
    RunEndings,
    ExecutionReconciler,
    { provide: SecretBox, inject: [HUB_SECRETS], useFactory: (secrets: HubSecrets) => new SecretBox(secrets.dataKey) },
  ],
  exports: [ExecutionsService, ExecutionDispatcher, ExecutionReconciler, RunsService, SecretBox],
})
export class ExecutionsModule {}
