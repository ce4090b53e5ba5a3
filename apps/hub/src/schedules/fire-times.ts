import { jitterMs, latestOccurrence, type Schedule } from './schedule';
import type { MissedPolicy } from './schedule.schema';

/** A job's next occurrence (a run's `scheduledAt`) and when it starts (plus its jitter). */
export interface FireTime {
  nextFireAt: Date | null;
  nextDueAt: Date | null;
}

export const NO_FIRE: FireTime = { nextFireAt: null, nextDueAt: null };

/** The first occurrence strictly after `after`. */
export function fireTimeAfter(jobId: string, schedule: Schedule, after: number): FireTime {
  const next = schedule.next(after);
  if (next === null) return NO_FIRE;
  return { nextFireAt: new Date(next), nextDueAt: new Date(next + jitterMs(jobId, next, schedule.spec.jitterSeconds)) };
}

export interface DueJob {
  id: string;
  missed: MissedPolicy;
  startingDeadlineSeconds: number;
}

/** What one claim of a due job does: start the occurrence `fire` (or none), and move the job on to `next`. */
export interface OccurrencePlan {
  fire: number | null;
  /** Occurrences passed over without a run, oldest first (`fire` is not among them). */
  skipped: { from: number; until: number; why: 'missed' | 'startingDeadline' } | null;
  next: FireTime;
}

/**
 * `due` is the job's next occurrence and `dueAt` when it was to start. Within `lateGraceMs` of
 * its start an occurrence is merely late (a failover, a busy hub): it runs on its own, if its
 * starting deadline allows. Later than that, no hub was firing, and every occurrence up to
 * `now - lateGraceMs` is missed: `skip` runs none of them, `runOnce` runs the latest of them
 * once, if it is still within the starting deadline.
 */
export function planOccurrence(job: DueJob, schedule: Schedule, due: number, dueAt: number, now: number, lateGraceMs: number): OccurrencePlan {
  const deadlineMs = job.startingDeadlineSeconds * 1000;
  if (now - dueAt <= lateGraceMs) {
    const inTime = now - dueAt <= deadlineMs;
    return {
      fire: inTime ? due : null,
      skipped: inTime ? null : { from: due, until: due, why: 'startingDeadline' },
      next: fireTimeAfter(job.id, schedule, due),
    };
  }
  // Missed for sure only when late beyond the grace even with the most jitter it could have.
  const latest = latestOccurrence(schedule, due, now - lateGraceMs - (schedule.spec.jitterSeconds ?? 0) * 1000);
  const next = fireTimeAfter(job.id, schedule, latest);
  if (job.missed === 'runOnce' && now - latest <= deadlineMs) {
    return { fire: latest, skipped: latest > due ? { from: due, until: previousBefore(schedule, due, latest), why: 'missed' } : null, next };
  }
  return { fire: null, skipped: { from: due, until: latest, why: job.missed === 'runOnce' ? 'startingDeadline' : 'missed' }, next };
}

/** The occurrence just before `latest`, at or after `from`. */
function previousBefore(schedule: Schedule, from: number, latest: number): number {
  return latestOccurrence(schedule, from, latest - 1);
}
