import { Module } from '@nestjs/common';
import { ExecutionsModule } from '../executions/executions.module';
import { ScheduleCoreModule } from './schedule-core.module';
import { SchedulePreviewController } from './schedule-preview.controller';
import { SchedulePreviewService } from './schedule-preview.service';
import { SchedulerController } from './scheduler.controller';
import { SchedulerService } from './scheduler.service';
import { SchedulerState } from './scheduler-state';
import { SchedulerStatusService } from './scheduler-status.service';

/** Fires saved jobs' schedules: the leader's loop, the hub-wide pause, previews. */
@Module({
  imports: [ExecutionsModule, ScheduleCoreModule],
  controllers: [SchedulerController, SchedulePreviewController],
  providers: [SchedulerService, SchedulerState, SchedulerStatusService, SchedulePreviewService],
  exports: [SchedulerService],
})
export class SchedulesModule {}
