import { idLockedInOrder } from '../common/database/locked-in-order';

/** Moves the pending runs of the executions in a `started`/`dispatched` CTE (`run_id`) to running, locked in id order (see common/database/locked-in-order.ts). */
export function runsToRunning(source: string): string {
  return `update runs set status = 'running' where ${idLockedInOrder('runs', `id in (select run_id from ${source}) and status = 'pending'`)}`;
}
