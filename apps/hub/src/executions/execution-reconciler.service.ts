import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { type Ack, ACK_OK, type AgentInventory } from '@outpost/protocol';
import { idLockedInOrder } from '../common/database/locked-in-order';
import { ExecutionDispatcher } from './execution-dispatcher';
import { statusesLeadingTo } from './execution-state';
import { OutputEvents } from './output-events';
import { RunProgressService } from './run-progress.service';

/** The reason a reconciled execution carries. */
export const NOT_ON_AGENT_REASON = 'agent_lost: the reconnected agent neither runs it nor holds its result';

const LOSABLE = statusesLeadingTo('agent_lost', 'lost');
const IN_LOSABLE = LOSABLE.map(() => '?').join(', ');

/**
 * Squares the hub's view with an agent's inventory after it (re)connects. An execution the hub
 * dispatched to it before this connection that the agent neither runs nor holds a result for
 * went with the agent's previous process (a crash, a restart): it ends `lost` now rather than
 * after the lease. Its spooled output and any late result are still taken afterwards (a result
 * settles `lost` as `late_result`). Dispatches newer than the connection are left alone: the
 * inventory may have been taken before they arrived. One it runs that was canceled meanwhile is
 * stopped.
 */
@Injectable()
export class ExecutionReconciler {
  private readonly logger = new Logger(ExecutionReconciler.name);

  constructor(
    private readonly em: EntityManager,
    private readonly runs: RunProgressService,
    private readonly events: OutputEvents,
    private readonly dispatcher: ExecutionDispatcher,
  ) {}

  async reconcile(agentId: string, inventory: AgentInventory, connectedAt: Date): Promise<Ack> {
    const held = [...inventory.running, ...inventory.results];
    const lost = await this.em.fork().execute<{ id: string; run_id: string }[]>(
      `update executions set status = 'lost', finished_at = now(), reason = ?
        where ${idLockedInOrder(
          'executions',
          `agent_id = ? and status in (${IN_LOSABLE}) and coalesce(dispatched_at, started_at) < ?
           and id not in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
        )}
          and status in (${IN_LOSABLE})
        returning id, run_id`,
      [NOT_ON_AGENT_REASON, agentId, ...LOSABLE, connectedAt, JSON.stringify(held), ...LOSABLE],
    );
    if (lost.length > 0) {
      this.logger.warn({ agentId, executions: lost.map((row) => row.id) }, 'executions lost: the reconnected agent no longer has them');
    }
    for (const row of lost) this.events.notify(row.id);
    for (const runId of new Set(lost.map((row) => row.run_id))) await this.runs.settle(runId);
    // A cancel that never reached the agent, or overtook the dispatch it was for.
    if (inventory.running.length > 0) this.dispatcher.stopCanceled(agentId, inventory.running);
    return ACK_OK;
  }
}
