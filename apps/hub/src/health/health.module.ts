import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { SchedulesModule } from '../schedules/schedules.module';
import { HealthController } from './health.controller';

@Module({ imports: [DatabaseModule, SchedulesModule], controllers: [HealthController] })
export class HealthModule {}
