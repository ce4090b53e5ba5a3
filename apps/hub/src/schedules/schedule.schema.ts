import { z } from 'zod';

/**
 * A job's `schedule` as the API takes it: exactly one of `cron`, `every` or `at`, with optional
 * bounds and jitter. The shape is checked here; whether an expression, interval or zone means
 * something is `compileSchedule`'s job (400 INVALID_SCHEDULE, saying what is wrong).
 */
export const scheduleSchema = z
  .object({
    cron: z.string().trim().min(1).max(256).optional(),
    timezone: z.string().trim().min(1).max(64).optional(),
    every: z.string().trim().min(1).max(32).optional(),
    at: z.iso.datetime({ offset: true }).optional(),
    startAt: z.iso.datetime({ offset: true }).optional(),
    endAt: z.iso.datetime({ offset: true }).optional(),
    jitterSeconds: z.number().int().min(0).max(86_400).optional(),
  })
  .strict();
export type ScheduleInput = z.infer<typeof scheduleSchema>;

const SCHEDULE_KEYS = Object.keys(scheduleSchema.shape).sort();

/** A schedule as one string whatever its key order (jsonb reorders keys), to tell whether it changed. */
export function scheduleKey(schedule: ScheduleInput | null): string {
  return JSON.stringify(schedule, SCHEDULE_KEYS);
}

export const OVERLAP_POLICIES = ['allow', 'skip', 'replace'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export const MISSED_POLICIES = ['skip', 'runOnce'] as const;
export type MissedPolicy = (typeof MISSED_POLICIES)[number];

/** The scheduling fields of a job body; null clears an optional one in a PATCH. */
export const jobScheduleFieldsSchema = z.object({
  schedule: scheduleSchema.nullish(),
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  missed: z.enum(MISSED_POLICIES).optional(),
  startingDeadlineSeconds: z.number().int().min(1).max(366 * 86_400).optional(),
});

export const MAX_PREVIEW_COUNT = 1000;

/** `GET /api/v1/schedules/preview`: the same fields as a job's schedule, as query parameters. */
export const previewQuerySchema = z
  .object({
    cron: z.string().optional(),
    timezone: z.string().optional(),
    every: z.string().optional(),
    at: z.string().optional(),
    startAt: z.string().optional(),
    endAt: z.string().optional(),
    count: z.coerce.number().int().min(1).max(MAX_PREVIEW_COUNT).default(5),
  })
  .strict();
export type PreviewQuery = z.infer<typeof previewQuerySchema>;

export const nextRunsQuerySchema = z.object({ count: z.coerce.number().int().min(1).max(MAX_PREVIEW_COUNT).default(5) }).strict();
