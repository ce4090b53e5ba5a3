import { describe, expect, it } from 'vitest';
import { ACCESS_POLICY } from '../auth/access-policy';
import { AUDIT_EXEMPT, AUDITED_ACTIONS } from './audited-actions';

const ROUTE_KEY = /^(POST|PUT|PATCH|DELETE) \/\S+$/;

describe('the audited actions table', () => {
  it('covers every route of the access policy that can change something, or exempts it with a reason', () => {
    const forgotten = Object.keys(ACCESS_POLICY).filter(
      (key) => !key.startsWith('GET ') && !(key in AUDITED_ACTIONS) && !(key in AUDIT_EXEMPT),
    );
    expect(forgotten, 'add these to AUDITED_ACTIONS (or, if truly read-only, to AUDIT_EXEMPT with the reason)').toEqual([]);
  });

  it('names only routes that exist in the access policy', () => {
    expect(Object.keys(AUDITED_ACTIONS).filter((key) => !(key in ACCESS_POLICY))).toEqual([]);
  });

  it('exempts only existing state-free routes, each with a reason, and never one it also audits', () => {
    for (const [key, reason] of Object.entries(AUDIT_EXEMPT)) {
      expect(ACCESS_POLICY[key], `${key} is not a route`).toBeDefined();
      expect(key in AUDITED_ACTIONS, `${key} is both audited and exempt`).toBe(false);
      expect(reason.length).toBeGreaterThan(10);
    }
  });

  it('names every action noun.verb, once, and takes target params that the path has', () => {
    const actions = Object.values(AUDITED_ACTIONS).map((entry) => entry.action);
    expect(new Set(actions).size).toBe(actions.length);
    for (const [key, entry] of Object.entries(AUDITED_ACTIONS)) {
      expect(key).toMatch(ROUTE_KEY);
      expect(entry.action).toMatch(/^[a-z_]+\.[a-z_]+$/);
      if (typeof entry.target === 'object' && 'param' in entry.target) expect(key).toContain(`/:${entry.target.param}`);
      if (entry.target !== undefined) expect(entry.targetType, `${key} has a target but no target type`).toBeDefined();
    }
  });

  it('takes a claimed actor only on public routes, and never from a secret field', () => {
    for (const [key, entry] of Object.entries(AUDITED_ACTIONS)) {
      if (!entry.claimedActor) continue;
      expect(ACCESS_POLICY[key] ?? 'public', key).toBe('public');
      expect(entry.claimedActor.nameField).not.toMatch(/password|token|secret|credential/i);
    }
  });
});
