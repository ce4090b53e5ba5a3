import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from './clock';
import { compileSchedule, nextOccurrences } from './schedule';
import type { PreviewQuery } from './schedule.schema';

/** The next occurrences of an unsaved schedule, by the same rules the scheduler fires with. */
@Injectable()
export class SchedulePreviewService {
  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  nextRuns({ count, ...input }: PreviewQuery): { items: string[] } {
    const schedule = compileSchedule(input);
    return { items: nextOccurrences(schedule, this.clock.now(), count).map((t) => new Date(t).toISOString()) };
  }
}
