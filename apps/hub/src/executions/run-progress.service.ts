import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { FINAL_EXECUTION_STATUSES } from './execution-state';
import { Run } from './run.entity';

const FINAL_LIST = FINAL_EXECUTION_STATUSES.map((s) => `'${s}'`).join(', ');

/** A run's state follows from its executions; these guarded updates keep it in step. */
@Injectable()
export class RunProgressService {
  constructor(private readonly em: EntityManager) {}

  /** pending → running on the first sign of life; guarded, so it happens once. */
  async markRunning(runId: string): Promise<void> {
    await this.em.fork().nativeUpdate(Run, { id: runId, status: 'pending' }, { status: 'running' });
  }

  /**
   * Settles a run once every target's last attempt is final: succeeded when all of them
   * succeeded, failed otherwise (DESIGN.md §4). Guarded, so concurrent settlements agree.
   */
  async settle(runId: string): Promise<void> {
    await this.em.fork().execute(
      `with last_attempt as (
         select distinct on (agent_id) status from executions where run_id = ? order by agent_id, attempt desc
       )
       update runs set
         status = case when (select bool_and(status = 'succeeded') from last_attempt) then 'succeeded' else 'failed' end,
         finished_at = now()
       where id = ? and status in ('pending', 'running')
         and not exists (select 1 from last_attempt where status not in (${FINAL_LIST}))`,
      [runId, runId],
    );
  }
}
