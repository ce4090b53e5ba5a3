import { describe, expect, it } from 'vitest';
import { AgentEventLimiter } from './agent-event-limiter';

describe('AgentEventLimiter', () => {
  it('accepts up to the limit, drops the excess, and disconnects persistent excess', async () => {
    const limiter = new AgentEventLimiter(4);
    const decisions: string[] = [];
    for (let i = 0; i < 4 + 4 * 5 + 1; i += 1) decisions.push(await limiter.admit('socket-a'));
    expect(decisions.slice(0, 4)).toEqual(['accept', 'accept', 'accept', 'accept']);
    expect(decisions.slice(4, 24).every((d) => d === 'drop')).toBe(true);
    expect(decisions.at(-1)).toBe('disconnect');
    // Another socket has its own budget.
    expect(await limiter.admit('socket-b')).toBe('accept');
  });

  it('starts a forgotten socket afresh', async () => {
    const limiter = new AgentEventLimiter(1);
    await limiter.admit('s');
    expect(await limiter.admit('s')).toBe('drop');
    await limiter.forget('s');
    expect(await limiter.admit('s')).toBe('accept');
  });
});
