import { z } from 'zod';
import { paginationSchema } from '../common/validation/common-schemas';
import { checkSpec, envNameSchema, envValueSchema, runFieldsSchema, targetSchema } from '../executions/run-request.schema';
import { jobScheduleFieldsSchema } from '../schedules/schedule.schema';

/**
 * Job bodies are the run fields (one definition, in run-request.schema.ts) plus a name, a
 * description, `enabled`, and the scheduling fields (`schedule`, `overlap`, `missed`,
 * `startingDeadlineSeconds`, `paused`). Unknown fields are refused: a misspelt field silently dropped
 * from a saved job would run something other than what was meant.
 */

/** `{"secret": true}`, a secret as the API shows it: keeps the value already stored under that name. */
export const keptSecretSchema = z.object({ secret: z.literal(true) }).strict();

const jobFieldsSchema = runFieldsSchema
  .extend({
    name: z.string().trim().min(1).max(128),
    description: z.string().max(4096).nullish(),
    enabled: z.boolean().optional(),
    ...jobScheduleFieldsSchema.shape,
    paused: z.boolean().optional(),
    env: z.record(envNameSchema, z.union([envValueSchema, keptSecretSchema])).optional(),
  })
  .strict();

/** `POST /api/v1/jobs` and `PUT /api/v1/jobs/:id`: a whole job. */
export const jobSchema = jobFieldsSchema.extend({ target: targetSchema }).superRefine(checkSpec);
export type JobInput = z.infer<typeof jobSchema>;

/** `PATCH /api/v1/jobs/:id`: any fields; the job they make is checked whole once merged. */
export const jobPatchSchema = jobFieldsSchema.partial().refine((patch) => Object.keys(patch).length > 0, 'give at least one field');
export type JobPatch = z.infer<typeof jobPatchSchema>;

/** `POST /api/v1/jobs/:id/run`: any run field replaces the job's for this run; `env` is merged key by key. */
export const runOverridesSchema = runFieldsSchema.strict().default({});
export type RunOverrides = z.infer<typeof runOverridesSchema>;

export const JOB_SORT_FIELDS = ['name', 'createdAt', 'updatedAt'] as const;

export const jobListSchema = paginationSchema.extend({
  search: z.string().max(255).optional(),
  enabled: z
    .enum(['true', 'false'], 'must be true or false')
    .transform((v) => v === 'true')
    .optional(),
  sort: z.enum(JOB_SORT_FIELDS).default('createdAt'),
});
export type JobListQuery = z.infer<typeof jobListSchema>;
