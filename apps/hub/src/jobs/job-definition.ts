import type { z } from 'zod';
import { AppError } from '../common/errors/app-error';
import { parseOrThrow } from '../common/validation/zod-body';
import {
  type envValueSchema,
  mergeRunFields,
  type RunRequest,
  runRequestSchema,
  type SealSecret,
  StoredSecret,
  toRunDefinition,
  toRunFields,
} from '../executions/run-request.schema';
import type { RunDefinition, StoredEnvValue } from '../executions/run.entity';
import { compileSchedule } from '../schedules/schedule';
import type { Job } from './job.entity';
import { type JobInput, type JobPatch, jobSchema, type keptSecretSchema, type RunOverrides } from './job.schemas';

/** The stored fields of a job, as written from an input. */
export type JobRecord = RunDefinition & Pick<Job, 'name' | 'description' | 'enabled' | ScheduleField>;

/** The fields that decide when a job fires. */
type ScheduleField = 'schedule' | 'overlap' | 'missed' | 'startingDeadlineSeconds' | 'paused';

type EnvInput = Record<string, z.infer<typeof envValueSchema> | z.infer<typeof keptSecretSchema>>;

/**
 * A job as the stored fields it becomes. `{"secret":true}` keeps the secret stored under that
 * name, so a job read from the API (secrets shown without values) can be written back as is.
 */
export function toJobRecord(input: JobInput, stored: Record<string, StoredEnvValue>, seal: SealSecret): JobRecord {
  const { schedule, overlap, missed, startingDeadlineSeconds, paused, ...fields } = input;
  const request: RunRequest = { ...fields, env: keepStoredSecrets(input.env ?? {}, stored) };
  return {
    ...toRunDefinition(request, seal),
    name: input.name,
    description: input.description ?? null,
    enabled: input.enabled ?? true,
    // Stored as compiled: the zone filled in, and only once it is known to be valid (INVALID_SCHEDULE otherwise).
    schedule: schedule ? compileSchedule(schedule).spec : null,
    overlap: overlap ?? 'skip',
    missed: missed ?? 'runOnce',
    startingDeadlineSeconds: startingDeadlineSeconds ?? 3600,
    paused: paused ?? false,
  };
}

/** The job's scheduling fields as the API shows them, shaped like the request that sets them. */
export function scheduleFieldsOf(job: Pick<Job, ScheduleField>): Pick<JobRecord, ScheduleField> {
  return { schedule: job.schedule, overlap: job.overlap, missed: job.missed, startingDeadlineSeconds: job.startingDeadlineSeconds, paused: job.paused };
}

/** The job a PATCH makes: checked whole, so the rules across fields hold for the result. */
export function patchJob(job: Job, patch: JobPatch): JobInput {
  const current: JobInput = { ...toRunFields(job), name: job.name, description: job.description, enabled: job.enabled, ...scheduleFieldsOf(job) };
  return parseOrThrow(jobSchema, mergeRunFields(current, patch));
}

/** The request one run of a job makes: the job's fields, overridden; env merged key by key. */
export function applyOverrides(job: Job, overrides: RunOverrides): RunRequest {
  const fields = toRunFields(job);
  const env = overrides.env ? { ...fields.env, ...overrides.env } : undefined;
  return parseOrThrow(runRequestSchema, mergeRunFields(fields, { ...overrides, env }));
}

function keepStoredSecrets(env: EnvInput, stored: Record<string, StoredEnvValue>): RunRequest['env'] {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => {
      if (typeof value === 'string' || value instanceof StoredSecret || 'value' in value) return [name, value];
      const kept = stored[name];
      if (!kept?.secret) {
        throw AppError.validation([{ field: `env.${name}`, message: 'has no stored secret to keep: give {"value": "...", "secret": true}' }]);
      }
      return [name, new StoredSecret(kept.sealed)];
    }),
  );
}
