import { Module } from '@nestjs/common';
import { CLOCK, systemClock } from './clock';
import { ScheduleChanges } from './schedule-changes';

/** What jobs and the scheduler share: the clock and the change notice. */
@Module({
  providers: [{ provide: CLOCK, useValue: systemClock }, ScheduleChanges],
  exports: [CLOCK, ScheduleChanges],
})
export class ScheduleCoreModule {}
