/**
 * The execution state machine, as one pure table (DESIGN.md §4). Every transition in the
 * database is a guarded update `WHERE status IN (fromStates(event))`, so a late or duplicate
 * message changes nothing and no state goes backwards.
 */
export const EXECUTION_STATUSES = [
  'pending',
  'queued',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'canceled',
  'lost',
  'expired',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const FINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'succeeded',
  'failed',
  'timed_out',
  'canceled',
  'lost',
  'expired',
];

export type ExecutionEvent =
  | 'released'
  | 'dispatch_acked'
  | 'started'
  | 'result_succeeded'
  | 'result_failed'
  | 'result_timed_out'
  | 'result_canceled'
  | 'cancel_undelivered'
  | 'delivery_expired'
  | 'agent_lost';

const TRANSITIONS: Record<ExecutionEvent, Partial<Record<ExecutionStatus, ExecutionStatus>>> = {
  // `pending` waits for its run to release it (a concurrency slot, a retry's backoff); only `queued` is delivered.
  released: { pending: 'queued' },
  dispatch_acked: { queued: 'dispatched' },
  // The agent's `started` may overtake the hub's write of its own dispatch ack.
  started: { queued: 'running', dispatched: 'running' },
  // `lost` means "the hub no longer knows": the agent's own result may still settle it.
  result_succeeded: { queued: 'succeeded', dispatched: 'succeeded', running: 'succeeded', lost: 'succeeded' },
  result_failed: { queued: 'failed', dispatched: 'failed', running: 'failed', lost: 'failed' },
  result_timed_out: { queued: 'timed_out', dispatched: 'timed_out', running: 'timed_out', lost: 'timed_out' },
  result_canceled: { queued: 'canceled', dispatched: 'canceled', running: 'canceled' },
  // A cancel of something the agent never received ends it at once; otherwise the agent reports it.
  cancel_undelivered: { pending: 'canceled', queued: 'canceled' },
  delivery_expired: { queued: 'expired' },
  agent_lost: { dispatched: 'lost', running: 'lost' },
};

/** The state `event` moves `from` to, or null when the event does not apply in that state. */
export function nextExecutionStatus(from: ExecutionStatus, event: ExecutionEvent): ExecutionStatus | null {
  return TRANSITIONS[event][from] ?? null;
}

/** The states from which `event` leads to `to`: the guard of the database update. */
export function statusesLeadingTo(event: ExecutionEvent, to: ExecutionStatus): ExecutionStatus[] {
  return EXECUTION_STATUSES.filter((from) => TRANSITIONS[event][from] === to);
}

export function isFinalExecutionStatus(status: ExecutionStatus): boolean {
  return FINAL_EXECUTION_STATUSES.includes(status);
}
