import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors/app-error';
import { compileSchedule, jitterMs, latestOccurrence, nextOccurrences } from './schedule';
import { type ScheduleInput, scheduleKey } from './schedule.schema';

/** The next `count` occurrences after `after`, as ISO strings: the clock is the argument, never the machine's. */
function occurrences(input: ScheduleInput, after: string, count: number): string[] {
  return nextOccurrences(compileSchedule(input), Date.parse(after), count).map((t) => new Date(t).toISOString());
}

function invalidMessage(input: ScheduleInput): string {
  try {
    compileSchedule(input);
  } catch (error) {
    if (error instanceof AppError && error.code === 'INVALID_SCHEDULE') return error.message;
    throw error;
  }
  throw new Error('expected INVALID_SCHEDULE');
}

describe('cron in a time zone', () => {
  it('defaults to UTC and takes macros', () => {
    expect(occurrences({ cron: '0 2 * * *' }, '2026-01-01T03:00:00Z', 2)).toEqual(['2026-01-02T02:00:00.000Z', '2026-01-03T02:00:00.000Z']);
    expect(occurrences({ cron: '@hourly' }, '2026-01-01T03:10:00Z', 1)).toEqual(['2026-01-01T04:00:00.000Z']);
    expect(occurrences({ cron: '@weekly' }, '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-04T00:00:00.000Z']);
    expect(occurrences({ cron: '@yearly', timezone: 'Europe/Berlin' }, '2026-06-01T00:00:00Z', 1)).toEqual(['2026-12-31T23:00:00.000Z']);
  });

  it('takes six fields with seconds first', () => {
    expect(occurrences({ cron: '*/20 * * * * *' }, '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:01:20.000Z',
    ]);
    expect(occurrences({ cron: '15 30 9 * * *' }, '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-01T09:30:15.000Z']);
  });

  it('is strictly after the given time, and exact to the millisecond', () => {
    expect(occurrences({ cron: '* * * * * *' }, '2026-01-01T00:00:00.000Z', 1)).toEqual(['2026-01-01T00:00:01.000Z']);
    expect(occurrences({ cron: '* * * * * *' }, '2026-01-01T00:00:00.400Z', 1)).toEqual(['2026-01-01T00:00:01.000Z']);
  });

  it('America/New_York spring forward: 02:30 does not exist on 8 March 2026 and runs once at 03:00 EDT', () => {
    expect(occurrences({ cron: '30 2 * * *', timezone: 'America/New_York' }, '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT, the first instant after the gap
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
    // Every nonexistent time of the gap collapses into that one instant, with 03:00 itself.
    expect(occurrences({ cron: '*/20 * * * *', timezone: 'America/New_York' }, '2026-03-08T06:30:00Z', 4)).toEqual([
      '2026-03-08T06:40:00.000Z', // 01:40 EST
      '2026-03-08T07:00:00.000Z', // 02:00, 02:20, 02:40 and 03:00 EDT: once
      '2026-03-08T07:20:00.000Z', // 03:20 EDT
      '2026-03-08T07:40:00.000Z',
    ]);
  });

  it('America/New_York fall back: 01:30 happens twice on 1 November 2026 and runs once, at the first', () => {
    expect(occurrences({ cron: '30 1 * * *', timezone: 'America/New_York' }, '2026-10-31T12:00:00Z', 2)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-02T06:30:00.000Z', // 01:30 EST, next day
    ]);
    expect(occurrences({ cron: '0,30 * * * *', timezone: 'America/New_York' }, '2026-11-01T04:45:00Z', 4)).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; the second 01:00 and 01:30 (EST) do not run again
      '2026-11-01T07:00:00.000Z', // 02:00 EST
      '2026-11-01T07:30:00.000Z',
    ]);
    // Asked from inside the second pass, the next run is after the repeated hour.
    expect(occurrences({ cron: '0,30 * * * *', timezone: 'America/New_York' }, '2026-11-01T06:10:00Z', 1)).toEqual(['2026-11-01T07:00:00.000Z']);
  });

  it('Europe/Berlin both ways', () => {
    expect(occurrences({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, '2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
    expect(occurrences({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first of two
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
    expect(occurrences({ cron: '0 2 * * *', timezone: 'Europe/Berlin' }, '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-01T01:00:00.000Z']);
  });

  it('Australia/Lord_Howe shifts by 30 minutes both ways', () => {
    // 4 October 2026, 02:00 +10:30 → 02:30 +11: 02:15 does not exist and runs once at 02:30 +11.
    expect(occurrences({ cron: '15 2 * * *', timezone: 'Australia/Lord_Howe' }, '2026-10-02T00:00:00Z', 3)).toEqual([
      '2026-10-02T15:45:00.000Z', // 02:15 +10:30
      '2026-10-03T15:30:00.000Z', // 02:30 +11, the end of the gap
      '2026-10-04T15:15:00.000Z', // 02:15 +11
    ]);
    // 5 April 2026, 02:00 +11 → 01:30 +10:30: 01:45 happens twice and runs once, at the first.
    expect(occurrences({ cron: '45 1 * * *', timezone: 'Australia/Lord_Howe' }, '2026-04-04T00:00:00Z', 2)).toEqual([
      '2026-04-04T14:45:00.000Z', // 01:45 +11
      '2026-04-05T15:15:00.000Z', // 01:45 +10:30, next day
    ]);
  });

  it('29 February runs only in leap years', () => {
    expect(occurrences({ cron: '0 12 29 2 *' }, '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29T12:00:00.000Z', '2032-02-29T12:00:00.000Z']);
  });

  it('L is the last day of each month, in the zone', () => {
    expect(occurrences({ cron: '0 23 L * *', timezone: 'Europe/Berlin' }, '2027-12-01T00:00:00Z', 4)).toEqual([
      '2027-12-31T22:00:00.000Z',
      '2028-01-31T22:00:00.000Z',
      '2028-02-29T22:00:00.000Z', // leap year
      '2028-03-31T21:00:00.000Z', // CEST by then
    ]);
    expect(occurrences({ cron: '0 0 L 4 *' }, '2026-01-01T00:00:00Z', 1)).toEqual(['2026-04-30T00:00:00.000Z']);
  });
});

describe('every', () => {
  it('is a fixed period in real time, counted from the epoch', () => {
    expect(occurrences({ every: '5m' }, '2026-01-01T00:07:30Z', 3)).toEqual([
      '2026-01-01T00:10:00.000Z',
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:20:00.000Z',
    ]);
    expect(occurrences({ every: '1s' }, '2026-01-01T00:00:00.500Z', 2)).toEqual(['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z']);
    expect(occurrences({ every: '2d' }, '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-03T00:00:00.000Z']);
  });

  it('ignores DST: 1h stays 60 minutes through a fall back', () => {
    expect(occurrences({ every: '1h' }, '2026-11-01T04:30:00Z', 3)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('counts from startAt when given', () => {
    expect(occurrences({ every: '90m', startAt: '2026-01-01T00:10:00Z' }, '2025-12-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T00:10:00.000Z',
      '2026-01-01T01:40:00.000Z',
      '2026-01-01T03:10:00.000Z',
    ]);
  });
});

describe('startAt, endAt and at', () => {
  it('keeps cron occurrences between startAt and endAt, both included', () => {
    const input = { cron: '0 * * * *', startAt: '2026-01-01T02:00:00Z', endAt: '2026-01-01T04:00:00Z' };
    expect(occurrences(input, '2026-01-01T00:00:00Z', 5)).toEqual(['2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z']);
    expect(occurrences(input, '2026-01-01T04:00:00Z', 5)).toEqual([]);
  });

  it('at fires once', () => {
    expect(occurrences({ at: '2026-12-01T10:00:00+01:00' }, '2026-01-01T00:00:00Z', 5)).toEqual(['2026-12-01T09:00:00.000Z']);
    expect(occurrences({ at: '2026-12-01T09:00:00Z' }, '2026-12-01T09:00:00Z', 5)).toEqual([]);
  });
});

describe('invalid schedules say what is wrong', () => {
  it.each([
    [{ cron: '0 25 * * *' }, 'Invalid value for hour: 25'],
    [{ cron: '* * *' }, 'exactly five, six'],
    [{ cron: '* * * * * * *' }, '5 or 6 parts'],
    [{ cron: '@fortnightly' }, 'not a known macro'],
    [{ cron: '0 0 30 2 *' }, 'never matches'],
    [{ cron: '0 2 * * *', timezone: 'Europe/Bärlin' }, 'not an IANA time zone'],
    [{ every: '5 minutes' }, 'not an interval'],
    [{ every: '0s' }, 'not an interval'],
    [{ every: '5m', timezone: 'UTC' }, 'timezone applies to cron only'],
    [{ at: '2026-12-01T09:00:00' } as ScheduleInput, 'with a zone'],
    [{ cron: '0 2 * * *', every: '1h' }, 'exactly one of cron, every or at'],
    [{}, 'exactly one of cron, every or at'],
    [{ every: '1h', startAt: '2026-02-01T00:00:00Z', endAt: '2026-01-01T00:00:00Z' }, 'endAt must not be before startAt'],
  ])('%j', (input, expected) => {
    expect(invalidMessage(input)).toContain(expected);
  });
});

describe('catching up', () => {
  const hourly = compileSchedule({ cron: '0 * * * *' });

  it('finds the last occurrence at or before a time, from a known one', () => {
    const from = Date.parse('2026-01-01T00:00:00Z');
    expect(new Date(latestOccurrence(hourly, from, Date.parse('2026-01-03T05:30:00Z'))).toISOString()).toBe('2026-01-03T05:00:00.000Z');
    expect(new Date(latestOccurrence(hourly, from, Date.parse('2026-01-01T00:59:59Z'))).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    const everySecond = compileSchedule({ cron: '* * * * * *' });
    expect(new Date(latestOccurrence(everySecond, from, Date.parse('2026-03-01T00:00:00.500Z'))).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('jitter is the same for one occurrence everywhere, and within bounds', () => {
    const at = Date.parse('2026-01-01T00:00:00Z');
    expect(jitterMs('job', at, 0)).toBe(0);
    expect(jitterMs('job', at, 30)).toBe(jitterMs('job', at, 30));
    const delays = Array.from({ length: 200 }, (_, i) => jitterMs('job', at + i * 1000, 30));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(30_000);
    expect(new Set(delays).size).toBeGreaterThan(100);
  });
});

describe('telling a changed schedule', () => {
  it('ignores key order (jsonb reorders keys), not values', () => {
    const stored = { cron: '0 2 * * *', startAt: '2026-01-01T00:00:00Z', timezone: 'UTC' };
    expect(scheduleKey({ timezone: 'UTC', startAt: '2026-01-01T00:00:00Z', cron: '0 2 * * *' })).toBe(scheduleKey(stored));
    expect(scheduleKey({ ...stored, timezone: 'Europe/Berlin' })).not.toBe(scheduleKey(stored));
    expect(scheduleKey(null)).not.toBe(scheduleKey(stored));
  });
});
