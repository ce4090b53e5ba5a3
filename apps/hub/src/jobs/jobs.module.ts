import { Module } from '@nestjs/common';
import { ExecutionsModule } from '../executions/executions.module';
import { ScheduleCoreModule } from '../schedules/schedule-core.module';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

@Module({
  imports: [ExecutionsModule, ScheduleCoreModule],
  controllers: [JobsController],
  providers: [JobsService],
})
export class JobsModule {}
