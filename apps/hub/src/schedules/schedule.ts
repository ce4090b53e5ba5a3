import { Cron } from 'croner';
import { createHash } from 'node:crypto';
import { AppError } from '../common/errors/app-error';
import type { ScheduleInput } from './schedule.schema';
import { instantOfWallClock, isKnownTimeZone, wallClockAt } from './zoned-time';

/**
 * When a job fires. Times are instants (ms since the epoch); `next(after)` is the first
 * occurrence strictly after `after`, or null when there is none.
 */
export interface Schedule {
  /** The schedule as stored and shown: its input, with the zone filled in for cron. */
  readonly spec: ScheduleInput;
  next(after: number): number | null;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const EVERY = /^(\d+)\s*([smhd])$/;
const MACROS = ['@hourly', '@daily', '@weekly', '@monthly', '@yearly'];

/** An invalid schedule, with the field and what is wrong with it. */
function invalid(field: string, message: string): AppError {
  return new AppError('INVALID_SCHEDULE', `Invalid schedule: ${field} ${message}`, { fields: [{ field: `schedule.${field}`, message }] });
}

function parseInstant(field: 'at' | 'startAt' | 'endAt', value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // ISO 8601 with a zone: a local time without one would mean whatever the hub's zone is.
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) throw invalid(field, `must be an ISO 8601 time with a zone, such as 2026-12-01T09:00:00Z (got "${value}")`);
  return time;
}

/** Checks a schedule and makes it computable; throws INVALID_SCHEDULE saying what is wrong. */
export function compileSchedule(input: ScheduleInput): Schedule {
  const kinds = (['cron', 'every', 'at'] as const).filter((k) => input[k] !== undefined);
  if (kinds.length !== 1) throw invalid('cron', 'give exactly one of cron, every or at');
  const startAt = parseInstant('startAt', input.startAt);
  const endAt = parseInstant('endAt', input.endAt);
  if (startAt !== undefined && endAt !== undefined && endAt < startAt) throw invalid('endAt', 'must not be before startAt');
  if (input.timezone !== undefined && input.cron === undefined) throw invalid('timezone', 'applies to cron only');
  const bounds = { startAt, endAt };
  if (input.cron !== undefined) return cronSchedule(input, input.cron, input.timezone ?? 'UTC', bounds);
  if (input.every !== undefined) return everySchedule(input, input.every, bounds);
  const at = parseInstant('at', input.at)!;
  if (startAt !== undefined || endAt !== undefined) throw invalid('at', 'fires once: startAt and endAt do not apply');
  return { spec: input, next: (after) => (at > after ? at : null) };
}

interface Bounds {
  startAt: number | undefined;
  endAt: number | undefined;
}

/** startAt and endAt are both included. */
function bounded(bounds: Bounds, next: (after: number) => number | null): (after: number) => number | null {
  return (after) => {
    const from = bounds.startAt !== undefined ? Math.max(after, bounds.startAt - 1) : after;
    const time = next(from);
    return time === null || (bounds.endAt !== undefined && time > bounds.endAt) ? null : time;
  };
}

/**
 * Cron fields are matched against the zone's wall clock (croner, on a UTC scale so it applies
 * no DST rule of its own), and each matching wall time becomes one instant by the documented
 * rules (`instantOfWallClock`): a repeated local time fires once, at its first occurrence; a
 * nonexistent one fires once at the first instant after the gap, and several nonexistent times
 * of one gap make one firing.
 */
function cronSchedule(input: ScheduleInput, expression: string, timeZone: string, bounds: Bounds): Schedule {
  if (!isKnownTimeZone(timeZone)) throw invalid('timezone', `"${timeZone}" is not an IANA time zone (such as Europe/Berlin or UTC)`);
  if (expression.startsWith('@') && !MACROS.includes(expression.toLowerCase())) {
    throw invalid('cron', `"${expression}" is not a known macro (${MACROS.join(', ')})`);
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: 'UTC', mode: '5-or-6-parts' });
  } catch (error) {
    throw invalid('cron', `"${expression}" is not a cron expression: ${(error as Error).message.replace(/^CronPattern: /, '')}`);
  }
  const nextWall = (wall: number): number | null => cron.nextRun(new Date(wall))?.getTime() ?? null;
  const next = (after: number): number | null => {
    let wall = nextWall(wallClockAt(after, timeZone));
    // Only in the second pass of a repeated hour can a later wall time map to an earlier instant.
    while (wall !== null) {
      const instant = instantOfWallClock(wall, timeZone);
      if (instant > after) return instant;
      wall = nextWall(wall);
    }
    return null;
  };
  // croner looks years ahead: nothing from 1970 on means a date that does not exist, such as 30 February.
  if (nextWall(0) === null) throw invalid('cron', `"${expression}" never matches a date`);
  return { spec: { ...input, cron: expression, timezone: timeZone }, next: bounded(bounds, next) };
}

/** A fixed period in real time, counted from startAt, or from the Unix epoch (so `5m` fires at :00, :05, … UTC). */
function everySchedule(input: ScheduleInput, every: string, bounds: Bounds): Schedule {
  const match = EVERY.exec(every);
  const period = match ? Number(match[1]) * UNITS[match[2]!]! : 0;
  if (!match || period <= 0) throw invalid('every', `"${every}" is not an interval: give a whole number and a unit s, m, h or d, such as 5m`);
  const anchor = bounds.startAt ?? 0;
  const next = (after: number): number => (after < anchor ? anchor : anchor + (Math.floor((after - anchor) / period) + 1) * period);
  return { spec: input, next: bounded(bounds, next) };
}

/** Up to `count` occurrences after `after`. */
export function nextOccurrences(schedule: Schedule, after: number, count: number): number[] {
  const times: number[] = [];
  for (let time = schedule.next(after); time !== null && times.length < count; time = schedule.next(time)) times.push(time);
  return times;
}

/**
 * The last occurrence at or before `until`, not before `from` (itself an occurrence), found by
 * looking back over a doubling window so a long outage costs a few steps, not one per occurrence.
 */
export function latestOccurrence(schedule: Schedule, from: number, until: number): number {
  if (from >= until) return from;
  for (let window = 1_000; ; window *= 2) {
    const start = Math.max(from, until - window);
    let time = start === from ? from : schedule.next(start - 1);
    if (time !== null && time <= until) {
      for (let after = schedule.next(time); after !== null && after <= until; after = schedule.next(after)) time = after;
      return time;
    }
    if (start === from) return from;
  }
}

/** A delay in [0, jitterSeconds] s, the same on every hub for one occurrence of one job. */
export function jitterMs(jobId: string, scheduledAt: number, jitterSeconds: number | undefined): number {
  if (!jitterSeconds) return 0;
  const digest = createHash('sha256').update(`${jobId}@${scheduledAt}`).digest();
  return digest.readUInt32BE(0) % (jitterSeconds * 1000 + 1);
}
