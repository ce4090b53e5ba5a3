import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { RunDefinitionColumns } from '../executions/run-definition-columns';
import type { MissedPolicy, OverlapPolicy, ScheduleInput } from '../schedules/schedule.schema';

/** A saved definition: what to run, where and how. Each run of it keeps its own copy. */
@Entity({ tableName: 'jobs' })
export class Job extends RunDefinitionColumns {
  [OptionalProps]?:
    | 'description'
    | 'env'
    | 'cwd'
    | 'timeoutSeconds'
    | 'deliveryTimeoutSeconds'
    | 'concurrency'
    | 'maxFailures'
    | 'retries'
    | 'retryLost'
    | 'enabled'
    | 'schedule'
    | 'overlap'
    | 'missed'
    | 'startingDeadlineSeconds'
    | 'paused'
    | 'scheduleSetBy'
    | 'nextFireAt'
    | 'nextDueAt'
    | 'createdBy'
    | 'createdAt'
    | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique()
  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  /** A disabled job keeps its definition but cannot be run. */
  @Property({ type: 'boolean' })
  enabled: boolean = true;

  @Property({ type: 'json', nullable: true })
  schedule: ScheduleInput | null = null;

  /** What an occurrence does while the previous run of this job is still going. */
  @Property({ type: 'text' })
  overlap: OverlapPolicy = 'skip';

  /** What happens to occurrences missed while no hub could fire them. */
  @Property({ type: 'text' })
  missed: MissedPolicy = 'runOnce';

  /** An occurrence not started within this many seconds of its time is not started. */
  @Property({ type: 'integer' })
  startingDeadlineSeconds: number = 3600;

  /** The schedule is paused; the job can still be run by hand. */
  @Property({ type: 'boolean' })
  paused: boolean = false;

  /** Who set the schedule: its runs are requested on their behalf. */
  @Property({ type: 'uuid', nullable: true })
  scheduleSetBy: string | null = null;

  /** The next occurrence (the run's `scheduledAt`); null when there is none or the schedule is stopped. */
  @Property({ type: 'timestamptz', nullable: true })
  nextFireAt: Date | null = null;

  /** When that occurrence starts: `nextFireAt` plus its jitter. */
  @Property({ type: 'timestamptz', nullable: true })
  nextDueAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  createdBy: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
