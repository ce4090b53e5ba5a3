import { describe, expect, it } from 'vitest';
import { type ChangeRow, ChangeWindow } from './live-changes';

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
const row = (kind: ChangeRow['kind'], id: string, status: string, ms: number, runId: string | null = null): ChangeRow => ({
  kind,
  id,
  run_id: runId,
  status,
  changed_at: at(ms),
});

describe('ChangeWindow', () => {
  it('reads from the overlap before the newest change seen', () => {
    const window = new ChangeWindow(at(10_000), 3000);
    expect(window.since()).toEqual(at(7000));
    window.take([row('agent', 'a', 'online', 12_000)]);
    expect(window.since()).toEqual(at(9000));
  });

  it('groups rows into one event per kind', () => {
    const window = new ChangeWindow(at(0), 3000);
    expect(
      window.take([row('agent', 'a', 'online', 1), row('run', 'r', 'running', 2), row('execution', 'e', 'running', 3, 'r'), row('agent', 'b', 'offline', 4)]),
    ).toEqual({
      'agents.changed': { items: [{ id: 'a', status: 'online' }, { id: 'b', status: 'offline' }] },
      'runs.changed': { items: [{ id: 'r', status: 'running' }] },
      'executions.changed': { items: [{ id: 'e', runId: 'r', status: 'running' }] },
    });
  });

  it('sends a change read again in the overlap once, and a later change of the same row again', () => {
    const window = new ChangeWindow(at(0), 3000);
    window.take([row('execution', 'e', 'running', 1000, 'r')]);
    expect(window.take([row('execution', 'e', 'running', 1000, 'r')])).toEqual({});
    expect(window.take([row('execution', 'e', 'running', 1000, 'r'), row('execution', 'e', 'succeeded', 1500, 'r')])).toEqual({
      'executions.changed': { items: [{ id: 'e', runId: 'r', status: 'succeeded' }] },
    });
  });

  it('a change committed late, inside the overlap, is still sent', () => {
    const window = new ChangeWindow(at(0), 3000);
    window.take([row('agent', 'a', 'online', 5000)]);
    expect(window.take([row('agent', 'b', 'online', 4000)])).toEqual({ 'agents.changed': { items: [{ id: 'b', status: 'online' }] } });
  });
});
