/**
 * Batched statements touch many rows at once, and several of them run at once (and on several
 * hubs): rows locked in arbitrary order deadlock. Every batched update locks its rows in id
 * order first, the way PostgreSQL advises.
 *
 * The lock is `FOR NO KEY UPDATE`, the one an UPDATE of non-key columns takes by itself: no update
 * here changes an id or a unique column. `FOR UPDATE` would also conflict with the KEY SHARE locks
 * of foreign-key checks, which rows inserted elsewhere take in their own order: a run's
 * executions on its agents, output chunks on their execution. Under load that deadlocked a
 * heartbeat flush with the insert of a run on 1,000 agents.
 */

/**
 * A `locked` CTE holding the ids of the rows of `table` (alias `t`) that the CTE `source`
 * (alias `s`) names through `on`, row-locked in id order, and the `columns` of `t` asked for:
 * read as each row was once its lock was granted, not as the statement's snapshot saw it.
 */
export function lockedInOrder(table: 'agents' | 'executions' | 'runs', source: string, on: string, columns: readonly string[] = []): string {
  const kept = columns.map((column) => `, t.${column}`).join('');
  return `locked as (select t.id${kept} from ${table} t join ${source} s on ${on} order by t.id for no key update of t)`;
}

/**
 * `id in (...)`: the rows of `table` that `where` selects, row-locked in id order. The caller
 * repeats its status guard after it, since a row may have moved on while it waited for a lock.
 */
export function idLockedInOrder(table: 'agents' | 'executions' | 'runs', where: string): string {
  return `id in (select id from ${table} where ${where} order by id for no key update)`;
}
