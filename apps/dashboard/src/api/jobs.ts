import { ApiError } from './api-error';
import { api, query } from './client';
import type { Job, Run, Schedule } from './types';

export function isPaused(job: Job): boolean {
  return job.paused === true || !job.enabled;
}

/**
 * Pause or resume a job's schedule. A hub without the scheduling routes (404) still has
 * `enabled`, which is what pausing means there.
 */
export async function setJobPaused(job: Job, paused: boolean): Promise<void> {
  try {
    await api('POST', `/jobs/${job.id}/${paused ? 'pause' : 'resume'}`, {});
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    await api('PATCH', `/jobs/${job.id}`, { enabled: !paused });
  }
}

export function runJob(jobId: string): Promise<Run> {
  return api<Run>('POST', `/jobs/${jobId}/run`, {});
}

export type SchedulePreview = { items: string[] } | { unavailable: true };

/** The next fire times of an unsaved schedule; `unavailable` when this hub has no scheduler routes. */
export async function previewSchedule(schedule: Schedule, count = 5): Promise<SchedulePreview> {
  try {
    return await api<{ items: string[] }>('GET', `/schedules/preview${query({ ...schedule, count })}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code !== 'INVALID_SCHEDULE') return { unavailable: true };
    throw error;
  }
}

export function scheduleText(schedule: Schedule | null | undefined): string {
  if (!schedule) return 'on demand';
  if (schedule.cron) return `cron ${schedule.cron}${schedule.timezone ? ` (${schedule.timezone})` : ''}`;
  if (schedule.every) return `every ${schedule.every}`;
  if (schedule.at) return `once at ${new Date(schedule.at).toLocaleString()}`;
  return 'on demand';
}
