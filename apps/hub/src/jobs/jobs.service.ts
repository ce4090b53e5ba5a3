import { Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { SecretBox } from '../common/crypto/secret-box';
import { AppError } from '../common/errors/app-error';
import type { Page } from '../common/validation/common-schemas';
import { definitionView } from '../executions/execution-views';
import { RunsService } from '../executions/runs.service';
import { applyOverrides, patchJob, toJobRecord } from './job-definition';
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
  ) {}

  private readonly seal = (value: string, name: string) => this.box.seal(value, name);

  async create(input: JobInput, userId: string): Promise<JobView> {
    const em = this.em.fork();
    const job = em.create(Job, { ...toJobRecord(input, {}, this.seal), createdBy: userId });
    await this.flushUniquely(em, job.name);
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
  async replace(id: string, input: JobInput): Promise<JobView> {
    const em = this.em.fork();
    const job = await this.find(em, id);
    em.assign(job, toJobRecord(input, job.env, this.seal));
    await this.flushUniquely(em, job.name);
    return toJobView(job);
  }

  async update(id: string, patch: JobPatch): Promise<JobView> {
    const em = this.em.fork();
    const job = await this.find(em, id);
    em.assign(job, toJobRecord(patchJob(job, patch), job.env, this.seal));
    await this.flushUniquely(em, job.name);
    return toJobView(job);
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
    createdBy: job.createdBy,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}
