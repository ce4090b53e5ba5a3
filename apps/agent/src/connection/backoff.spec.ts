import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

const policy = { initialMs: 1_000, maxMs: 300_000, jitter: 0.5 };

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 20].map((attempt) => backoffDelay(policy, attempt, middle))).toEqual([
      1_000, 2_000, 4_000, 8_000, 300_000,
    ]);
  });

  it('spreads each delay by the jitter, never past the cap', () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(2_000);
    expect(backoffDelay(policy, 2, () => 0.999_999)).toBe(6_000);
    expect(backoffDelay(policy, 30, () => 0.999_999)).toBe(300_000);
  });
});
