/**
 * Batched statements touch many rows at once, and several of them run at once (and on several
 * hubs): rows locked in arbitrary order deadlock. Every batched update locks its rows in id
 * order first, the way PostgreSQL advises.
 */

/**
 * A `locked` CTE holding the ids of the rows of `table` (alias `t`) that the CTE `source`
 * (alias `s`) names through `on`, row-locked in id order.
 */
export function lockedInOrder(table: 'agents' | 'executions' | 'runs', source: string, on: string): string {
  return `locked as (select t.id from ${table} t join ${source} s on ${on} order by t.id for update of t)`;
}

/**
 * `id in (...)`: the rows of `table` that `where` selects, row-locked in id order. The caller
 * repeats its status guard after it, since a row may have moved on while it waited for a lock.
 */
export function idLockedInOrder(table: 'agents' | 'executions', where: string): string {
  return `id in (select id from ${table} where ${where} order by id for update)`;
}
