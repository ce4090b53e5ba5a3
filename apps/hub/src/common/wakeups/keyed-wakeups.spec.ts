import { describe, expect, it } from 'vitest';
import { KeyedWakeups } from './keyed-wakeups';

describe('KeyedWakeups', () => {
  it('wakes the subscribers of one key at its next notice, and no one else', async () => {
    const events = new KeyedWakeups();
    const woken: string[] = [];
    const a = events.subscribe('a', 60_000);
    const b = events.subscribe('b', 60_000);
    void a.woken.then(() => woken.push('a'));
    void b.woken.then(() => woken.push('b'));
    events.notify('a');
    await a.woken;
    expect(woken).toEqual(['a']);
    b.cancel();
    await b.woken;
    expect(woken).toEqual(['a', 'b']);
  });

  it('wakes a subscriber after its timeout without a notice', async () => {
    const events = new KeyedWakeups();
    const started = Date.now();
    await events.subscribe('a', 30).woken;
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('hands what a notice carries to its subscribers, and nothing on a timeout', async () => {
    const events = new KeyedWakeups<{ status: string }>();
    const notified = events.subscribe('a', 60_000);
    const timedOut = events.subscribe('b', 10);
    expect(events.awaited('a')).toBe(true);
    events.notify('a', { status: 'succeeded' });
    expect(await notified.woken).toEqual({ status: 'succeeded' });
    expect(await timedOut.woken).toBeUndefined();
    expect(events.awaited('a')).toBe(false);
    expect(events.awaited('b')).toBe(false);
  });
});
