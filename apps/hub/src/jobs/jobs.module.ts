import { Module } from '@nestjs/common';
import { ExecutionsModule } from '../executions/executions.module';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

@Module({
  imports: [ExecutionsModule],
  controllers: [JobsController],
  providers: [JobsService],
})
export class JobsModule {}
