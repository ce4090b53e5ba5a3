import { describe, expect, it } from 'vitest';
import { AgentEventBudget } from './agent-event-budget';

describe('AgentEventBudget', () => {
  it('accepts up to the limit, drops the excess, and disconnects persistent excess', () => {
    const budget = new AgentEventBudget(4);
    const decisions = Array.from({ length: 4 + 4 * 5 + 1 }, () => budget.admit(0));
    expect(decisions.slice(0, 4)).toEqual(['accept', 'accept', 'accept', 'accept']);
    expect(decisions.slice(4, 24).every((d) => d === 'drop')).toBe(true);
    expect(decisions.at(-1)).toBe('disconnect');
    // Another socket has its own budget.
    expect(new AgentEventBudget(4).admit(0)).toBe('accept');
  });

  it('starts every second afresh', () => {
    const budget = new AgentEventBudget(2);
    expect([budget.admit(0), budget.admit(500), budget.admit(999)]).toEqual(['accept', 'accept', 'drop']);
    expect([budget.admit(1_000), budget.admit(1_001), budget.admit(1_002)]).toEqual(['accept', 'accept', 'drop']);
  });

  it('forgives excess once its ten-second window is over, and not before', () => {
    const budget = new AgentEventBudget(1);
    // 1 accepted and 5 over the limit in the first second: the abuse allowance (5 × 1) is spent.
    expect(Array.from({ length: 6 }, () => budget.admit(0))).toEqual(['accept', 'drop', 'drop', 'drop', 'drop', 'drop']);
    // Within the same ten seconds, one more over the limit is abuse.
    expect([budget.admit(9_000), budget.admit(9_000)]).toEqual(['accept', 'disconnect']);
    // Ten seconds after the first excess, the excess counts from zero again.
    expect([budget.admit(10_000), budget.admit(10_000)]).toEqual(['accept', 'drop']);
  });
});
