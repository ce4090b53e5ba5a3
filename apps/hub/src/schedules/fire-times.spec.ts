import { describe, expect, it } from 'vitest';
import { type DueJob, planOccurrence } from './fire-times';
import { compileSchedule } from './schedule';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const GRACE = 3_000;
const hourly = compileSchedule({ cron: '0 * * * *' });
const job = (missed: DueJob['missed'], startingDeadlineSeconds = 3600): DueJob => ({ id: 'job', missed, startingDeadlineSeconds });

function plan(j: DueJob, due: string, now: string) {
  const result = planOccurrence(j, hourly, t(due), t(due), t(now), GRACE);
  return { fire: iso(result.fire), next: result.next.nextFireAt?.toISOString() ?? null, skipped: result.skipped && { ...result.skipped, from: iso(result.skipped.from), until: iso(result.skipped.until) } };
}

describe('what a due occurrence does', () => {
  it('an occurrence late by less than the grace fires on its own, whatever `missed` says', () => {
    for (const missed of ['skip', 'runOnce'] as const) {
      expect(plan(job(missed), '2026-01-01T10:00:00Z', '2026-01-01T10:00:02.500Z')).toEqual({
        fire: '2026-01-01T10:00:00.000Z',
        next: '2026-01-01T11:00:00.000Z',
        skipped: null,
      });
    }
  });

  it('missed: skip passes over every occurrence the hub was down for', () => {
    expect(plan(job('skip'), '2026-01-01T10:00:00Z', '2026-01-01T12:30:00Z')).toEqual({
      fire: null,
      next: '2026-01-01T13:00:00.000Z',
      skipped: { from: '2026-01-01T10:00:00.000Z', until: '2026-01-01T12:00:00.000Z', why: 'missed' },
    });
  });

  it('missed: runOnce runs the latest missed occurrence once', () => {
    expect(plan(job('runOnce'), '2026-01-01T10:00:00Z', '2026-01-01T12:30:00Z')).toEqual({
      fire: '2026-01-01T12:00:00.000Z',
      next: '2026-01-01T13:00:00.000Z',
      skipped: { from: '2026-01-01T10:00:00.000Z', until: '2026-01-01T11:00:00.000Z', why: 'missed' },
    });
  });

  it('runOnce runs nothing when even the latest missed occurrence is past startingDeadlineSeconds', () => {
    expect(plan(job('runOnce', 600), '2026-01-01T10:00:00Z', '2026-01-01T12:30:00Z')).toEqual({
      fire: null,
      next: '2026-01-01T13:00:00.000Z',
      skipped: { from: '2026-01-01T10:00:00.000Z', until: '2026-01-01T12:00:00.000Z', why: 'startingDeadline' },
    });
  });

  it('an occurrence within the grace but past a short starting deadline does not start', () => {
    expect(plan(job('runOnce', 1), '2026-01-01T10:00:00Z', '2026-01-01T10:00:02Z')).toMatchObject({ fire: null, next: '2026-01-01T11:00:00.000Z' });
  });

  it('with jitter, an occurrence whose jittered start may still be ahead is not called missed', () => {
    const jittered = compileSchedule({ cron: '0 * * * *', jitterSeconds: 1800 });
    const due = t('2026-01-01T10:00:00Z');
    // 11:00 has passed, but with up to 30 minutes of jitter it may not have been due yet: it keeps its own start.
    const result = planOccurrence(job('runOnce', 7200), jittered, due, due + 60_000, t('2026-01-01T11:10:00Z'), GRACE);
    expect([iso(result.fire), result.next.nextFireAt?.toISOString()]).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-01T11:00:00.000Z']);
  });

  it('a one-shot fires once and then has no next occurrence', () => {
    const at = compileSchedule({ at: '2026-12-01T09:00:00Z' });
    const result = planOccurrence(job('runOnce'), at, t('2026-12-01T09:00:00Z'), t('2026-12-01T09:00:00Z'), t('2026-12-01T09:00:00.200Z'), GRACE);
    expect(result).toEqual({ fire: t('2026-12-01T09:00:00Z'), skipped: null, next: { nextFireAt: null, nextDueAt: null } });
  });
});
