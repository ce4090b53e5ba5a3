import { describe, expect, it } from 'vitest';
import { ACCESS_POLICY } from '../auth/access-policy';
import { RATE_LIMIT_EXEMPT } from './rate-limit-exemptions';

describe('rate-limit exemptions', () => {
  it('name existing public routes only, each with a reason', () => {
    for (const [key, reason] of Object.entries(RATE_LIMIT_EXEMPT)) {
      expect(ACCESS_POLICY[key], `${key} is not a route`).toBe('public');
      expect(reason.length).toBeGreaterThan(10);
    }
  });
});
