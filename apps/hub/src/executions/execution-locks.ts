/**
 * Batched reports, dispatch acks and sweeps touch many executions and runs in one statement, and
 * several such statements run at once (and on several hubs). Rows locked in arbitrary order
 * deadlock; every batched statement locks them in id order first, the way PostgreSQL advises.
 */

/**
 * A `locked` CTE holding the ids of the executions named in `source` (a CTE with `id` and
 * `agent`), owned by that agent, row-locked in id order.
 */
export function lockedInOrder(source: string): string {
  return `locked as (
    select e.id from executions e join ${source} s on e.id = s.id and e.agent_id = s.agent
     order by e.id for update of e)`;
}

/** Moves the pending runs of the executions in a `started`/`dispatched` CTE (`run_id`) to running, locked in id order. */
export function runsToRunning(source: string): string {
  return `update runs set status = 'running' where id in (
    select id from runs where id in (select run_id from ${source}) and status = 'pending' order by id for update)`;
}
