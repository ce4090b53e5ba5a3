import { Injectable } from '@nestjs/common';
import { KeyedWakeups } from '../common/wakeups/keyed-wakeups';

/** A run and its executions as PostgreSQL renders them in one statement (`runWithExecutionsJson`). */
export interface StoredRun {
  run: Record<string, unknown>;
  executions: Record<string, unknown>[];
}

/**
 * The run (`alias`) with its executions as one JSON document, in the snapshot of the statement
 * that renders it: a run read as ended always comes with its executions as they ended.
 */
export function runWithExecutionsJson(alias: string): string {
  return `jsonb_build_object('run', to_jsonb(${alias}), 'executions',
            coalesce((select jsonb_agg(to_jsonb(e) order by e.created_at, e.agent_id, e.attempt) from executions e where e.run_id = ${alias}.id), '[]'))`;
}

/**
 * Runs that ended, by run id: notified where a run is settled or canceled, awaited by
 * `?wait=` reads and starts (which also re-read, for runs ended through another hub). Settling
 * hands the ended run to those waiting here, so they answer without reading it again.
 */
@Injectable()
export class RunEndings extends KeyedWakeups<StoredRun> {}
