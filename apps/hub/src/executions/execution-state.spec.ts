import { describe, expect, it } from 'vitest';
import {
  EXECUTION_STATUSES,
  type ExecutionEvent,
  type ExecutionStatus,
  isFinalExecutionStatus,
  nextExecutionStatus,
  statusesLeadingTo,
} from './execution-state';

// Every state × event pair, written out: a change to the machine must change this table.
const EXPECTED: Record<ExecutionEvent, Partial<Record<ExecutionStatus, ExecutionStatus>>> = {
  released: { pending: 'queued' },
  dispatch_acked: { queued: 'dispatched' },
  started: { queued: 'running', dispatched: 'running' },
  result_succeeded: { queued: 'succeeded', dispatched: 'succeeded', running: 'succeeded', lost: 'succeeded' },
  result_failed: { queued: 'failed', dispatched: 'failed', running: 'failed', lost: 'failed' },
  result_timed_out: { queued: 'timed_out', dispatched: 'timed_out', running: 'timed_out', lost: 'timed_out' },
  result_canceled: { queued: 'canceled', dispatched: 'canceled', running: 'canceled' },
  cancel_undelivered: { pending: 'canceled', queued: 'canceled' },
  delivery_expired: { queued: 'expired' },
  agent_lost: { dispatched: 'lost', running: 'lost' },
};

describe('execution state machine', () => {
  for (const event of Object.keys(EXPECTED) as ExecutionEvent[]) {
    for (const from of EXECUTION_STATUSES) {
      const expected = EXPECTED[event][from] ?? null;
      it(`${from} + ${event} → ${expected ?? 'no change'}`, () => {
        expect(nextExecutionStatus(from, event)).toBe(expected);
      });
    }
  }

  it('never leaves a final state, except lost settled by a late result', () => {
    for (const from of EXECUTION_STATUSES.filter(isFinalExecutionStatus)) {
      for (const event of Object.keys(EXPECTED) as ExecutionEvent[]) {
        const to = nextExecutionStatus(from, event);
        if (from === 'lost' && event.startsWith('result_')) continue;
        expect(to, `${from} + ${event}`).toBeNull();
      }
    }
  });

  it('derives the guard of a guarded update', () => {
    expect(statusesLeadingTo('started', 'running')).toEqual(['queued', 'dispatched']);
    expect(statusesLeadingTo('result_failed', 'failed')).toEqual(['queued', 'dispatched', 'running', 'lost']);
    expect(statusesLeadingTo('result_canceled', 'canceled')).toEqual(['queued', 'dispatched', 'running']);
  });
});
