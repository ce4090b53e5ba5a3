import { describe, expect, it } from 'vitest';
import { type FailedAttempt, planRunStep, retryDelaySeconds, type RunPolicy } from './run-step';

const NONE: RunPolicy = { concurrency: null, maxFailures: null, retries: null, retryLost: false };
const AT = new Date('2026-11-30T10:00:00Z');

function failed(agentId: string, attempt = 1, status: FailedAttempt['status'] = 'failed'): FailedAttempt {
  return { agentId, attempt, status, finishedAt: AT };
}

describe('concurrency', () => {
  it('has no cap without concurrency', () => {
    expect(planRunStep(NONE, { inFlight: 40, failed: [] }).slots).toBeNull();
  });

  it('releases only what the cap leaves free, never a negative number', () => {
    const policy = { ...NONE, concurrency: 2 };
    expect(planRunStep(policy, { inFlight: 0, failed: [] }).slots).toBe(2);
    expect(planRunStep(policy, { inFlight: 1, failed: [] }).slots).toBe(1);
    expect(planRunStep(policy, { inFlight: 2, failed: [] }).slots).toBe(0);
    expect(planRunStep(policy, { inFlight: 3, failed: [] }).slots).toBe(0);
  });
});

describe('maxFailures', () => {
  it('stops once that many targets failed for good: no release, no retry', () => {
    const step = planRunStep({ ...NONE, concurrency: 1, maxFailures: 1 }, { inFlight: 0, failed: [failed('a')] });
    expect(step).toEqual({ retries: [], stop: { failures: 1, maxFailures: 1 }, slots: 0 });
  });

  it('keeps going below the bound', () => {
    const step = planRunStep({ ...NONE, maxFailures: 2 }, { inFlight: 3, failed: [failed('a')] });
    expect(step.stop).toBeNull();
    expect(step.slots).toBeNull();
  });

  it('counts timed_out and lost as failures', () => {
    const step = planRunStep({ ...NONE, maxFailures: 2 }, { inFlight: 0, failed: [failed('a', 1, 'timed_out'), failed('b', 1, 'lost')] });
    expect(step.stop).toEqual({ failures: 2, maxFailures: 2 });
  });

  it('does not count a target that will be retried', () => {
    const policy = { ...NONE, maxFailures: 1, retries: { max: 1, backoffSeconds: 0 } };
    const first = planRunStep(policy, { inFlight: 0, failed: [failed('a', 1)] });
    expect(first.stop).toBeNull();
    expect(first.retries).toEqual([{ agentId: 'a', attempt: 2, notBefore: AT }]);
    expect(planRunStep(policy, { inFlight: 0, failed: [failed('a', 2)] }).stop).toEqual({ failures: 1, maxFailures: 1 });
  });
});

describe('retries', () => {
  const policy = { ...NONE, retries: { max: 2, backoffSeconds: 5 } };

  it('retries max times: max 2 means up to 3 attempts', () => {
    expect(planRunStep(policy, { inFlight: 0, failed: [failed('a', 1)] }).retries.map((r) => r.attempt)).toEqual([2]);
    expect(planRunStep(policy, { inFlight: 0, failed: [failed('a', 2)] }).retries.map((r) => r.attempt)).toEqual([3]);
    expect(planRunStep(policy, { inFlight: 0, failed: [failed('a', 3)] }).retries).toEqual([]);
  });

  it('waits backoffSeconds, doubling per attempt, at most an hour', () => {
    expect(retryDelaySeconds(5, 1)).toBe(5);
    expect(retryDelaySeconds(5, 2)).toBe(10);
    expect(retryDelaySeconds(5, 3)).toBe(20);
    expect(retryDelaySeconds(3000, 2)).toBe(3600);
    const [retry] = planRunStep(policy, { inFlight: 0, failed: [failed('a', 2)] }).retries;
    expect(retry!.notBefore.getTime() - AT.getTime()).toBe(10_000);
  });

  it('retries timed_out, and lost only with retryLost', () => {
    expect(planRunStep(policy, { inFlight: 0, failed: [failed('a', 1, 'timed_out')] }).retries).toHaveLength(1);
    expect(planRunStep(policy, { inFlight: 0, failed: [failed('a', 1, 'lost')] }).retries).toEqual([]);
    expect(planRunStep({ ...policy, retryLost: true }, { inFlight: 0, failed: [failed('a', 1, 'lost')] }).retries).toHaveLength(1);
  });

  it('never retries without a retry policy', () => {
    expect(planRunStep(NONE, { inFlight: 0, failed: [failed('a')] }).retries).toEqual([]);
  });
});
