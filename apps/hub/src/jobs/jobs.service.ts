import { Inject, Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { SecretBox } from '../common/crypto/secret-box';
import { AppError } from '../common/errors/app-error';
import type { Page } from '../common/validation/common-schemas';
import { definitionView } from '../executions/execution-views';
import { RunsService } from '../executions/runs.service';
import { CLOCK, type Clock } from '../schedules/clock';
import { fireTimeAfter, NO_FIRE } from '../schedules/fire-times';
import { compileSchedule, nextOccurrences } from '../schedules/schedule';
import { ScheduleChanges } from '../schedules/schedule-changes';
import { scheduleKey } from '../schedules/schedule.schema';
import { applyOverrides, patchJob, scheduleFieldsOf, toJobRecord } from './job-definition';
import { Job } from './job.entity';
import type { JobInput, JobListQuery, JobPatch, RunOverrides } from './job.schemas';
import { containsPattern, fetchPage } from '../common/database/list-query';

export type JobView = ReturnType<typeof toJobView>;

@Injectable()
export class JobsService {
  constructor(
    private readonly em: EntityManager,
    private readonly runs: RunsService,
    private readonly box: SecretBox,
    private readonly scheduleChanges: ScheduleChanges,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private readonly seal = (value: string, name: string) => this.box.seal(value, name);

  async create(input: JobInput, userId: string): Promise<JobView> {
    const em = this.em.fork();
    const job = em.create(Job, { ...toJobRecord(input, {}, this.seal), createdBy: userId, scheduleSetBy: input.schedule ? userId : null });
    this.rescheduled(job);
    await this.flushUniquely(em, job.name);
    this.scheduleChanges.changed();
    return toJobView(job);
  }

  async get(id: string): Promise<JobView> {
    return toJobView(await this.find(this.em.fork(), id));
  }

  async list(query: JobListQuery): Promise<Page<JobView>> {
    const qb = this.em.fork().createQueryBuilder(Job, 'j');
    if (query.enabled !== undefined) qb.andWhere({ enabled: query.enabled });
    if (query.search) {
      const pattern = containsPattern(query.search);
      qb.andWhere({ $or: [{ name: { $ilike: pattern } }, { description: { $ilike: pattern } }] });
    }
    return fetchPage(qb, query, toJobView);
  }

  /** PUT: the whole job is replaced; `{"secret":true}` keeps a stored secret. */
  async replace(id: string, input: JobInput, userId: string): Promise<JobView> {
    return this.write(id, userId, (job) => toJobRecord(input, job.env, this.seal));
  }

  async update(id: string, patch: JobPatch, userId: string): Promise<JobView> {
    return this.write(id, userId, (job) => toJobRecord(patchJob(job, patch), job.env, this.seal));
  }

  /** The schedule stops firing; the job can still be run by hand. */
  async pause(id: string, userId: string): Promise<JobView> {
    return this.write(id, userId, (job) => ({ ...scheduleFieldsOf(job), paused: true }));
  }

  /** Fires again from the next occurrence after now: what fell in the pause does not run. */
  async resume(id: string, userId: string): Promise<JobView> {
    return this.write(id, userId, (job) => ({ ...scheduleFieldsOf(job), paused: false }));
  }

  /** The job's next `count` occurrences from now, as the scheduler will fire them (`[]` when it will not). */
  async nextRuns(id: string, count: number): Promise<{ items: string[] }> {
    const job = await this.find(this.em.fork(), id);
    if (!job.schedule || !job.enabled || job.paused || !job.nextFireAt) return { items: [] };
    const schedule = compileSchedule(job.schedule);
    const first = job.nextFireAt.getTime();
    const times = [first, ...nextOccurrences(schedule, first, count - 1)];
    return { items: times.map((t) => new Date(t).toISOString()) };
  }

  private async write(id: string, userId: string, record: (job: Job) => Partial<Job>): Promise<JobView> {
    const em = this.em.fork();
    const job = await this.find(em, id);
    const firing = (j: Job) => `${scheduleKey(j.schedule)} ${j.enabled} ${j.paused}`;
    const before = { schedule: scheduleKey(job.schedule), firing: firing(job) };
    em.assign(job, record(job));
    if (scheduleKey(job.schedule) !== before.schedule) job.scheduleSetBy = job.schedule ? userId : null;
    if (firing(job) !== before.firing) this.rescheduled(job);
    await this.flushUniquely(em, job.name);
    this.scheduleChanges.changed();
    return toJobView(job);
  }

  /** A changed schedule (or pause, resume, enable) fires from the next occurrence after now. */
  private rescheduled(job: Job): void {
    const active = job.schedule !== null && job.enabled && !job.paused;
    const fire = active ? fireTimeAfter(job.id, compileSchedule(job.schedule!), this.clock.now()) : NO_FIRE;
    job.nextFireAt = fire.nextFireAt;
    job.nextDueAt = fire.nextDueAt;
  }

  /** Its runs stay, with their own copy of the definition and no job id. */
  async delete(id: string): Promise<void> {
    const deleted = await this.em.fork().nativeDelete(Job, { id });
    if (deleted === 0) throw AppError.notFound('Job', id);
  }

  /** One run of the job, now, with the given fields overriding the job's for this run only. */
  async run(id: string, overrides: RunOverrides, userId: string) {
    const job = await this.find(this.em.fork(), id);
    if (!job.enabled) throw new AppError('CONFLICT', `Job ${job.name} is disabled; enable it to run it`);
    return this.runs.create(applyOverrides(job, overrides), { requestedBy: userId, trigger: 'manual', jobId: job.id });
  }

  private async find(em: EntityManager, id: string): Promise<Job> {
    const job = await em.findOne(Job, { id });
    if (!job) throw AppError.notFound('Job', id);
    return job;
  }

  /** The unique index decides, so two requests racing for one name cannot both win. */
  private async flushUniquely(em: EntityManager, name: string): Promise<void> {
    try {
      await em.flush();
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      throw new AppError('CONFLICT', `A job named "${name}" already exists`, { fields: [{ field: 'name', message: 'is already taken' }] });
    }
  }
}

function toJobView(job: Job) {
  return {
    id: job.id,
    name: job.name,
    description: job.description,
    enabled: job.enabled,
    ...definitionView(job),
    ...scheduleFieldsOf(job),
    createdBy: job.createdBy,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}
