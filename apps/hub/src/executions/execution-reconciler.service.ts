import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { type Ack, ACK_OK, type AgentInventory } from '@outpost/protocol';
import { batchLoader, CONNECT_GATHER } from '../common/batching/batch-loader';
import { executeBound } from '../common/database/bound-query';
import { lockedInOrder } from '../common/database/locked-in-order';
import { ExecutionDispatcher } from './execution-dispatcher';
import { statusesLeadingTo } from './execution-state';
import { OutputEvents } from './output-events';
import { RunProgressService } from './run-progress.service';

/** The reason a reconciled execution carries. */
export const NOT_ON_AGENT_REASON = 'agent_lost: the reconnected agent neither runs it nor holds its result';

const LOSABLE = statusesLeadingTo('agent_lost', 'lost');
const IN_LOSABLE = LOSABLE.map(() => '?').join(', ');

interface ReconnectedAgent {
  agentId: string;
  /** Dispatches older than the connection are what its inventory can vouch for. */
  connectedAt: Date;
  /** The executions the agent runs or holds a result for. */
  held: string[];
}

interface LostExecution {
  id: string;
  run_id: string;
  agent_id: string;
}

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
    const lost = await this.lostLoader.load({ agentId, connectedAt, held: [...inventory.running, ...inventory.results] });
    if (lost.length > 0) {
      this.logger.warn({ agentId, executions: lost.map((row) => row.id) }, 'executions lost: the reconnected agent no longer has them');
    }
    for (const row of lost) this.events.notify(row.id);
    for (const runId of new Set(lost.map((row) => row.run_id))) await this.runs.settle(runId);
    // A cancel that never reached the agent, or overtook the dispatch it was for.
    if (inventory.running.length > 0) this.dispatcher.stopCanceled(agentId, inventory.running);
    return ACK_OK;
  }

  /** Every agent sends its inventory on each connect: a fleet reconnecting is reconciled in batches. */
  private readonly lostLoader = batchLoader<ReconnectedAgent, LostExecution[]>(async (agents) => {
    const rows = await executeBound<LostExecution>(
      this.em.fork(),
      `with c as (select * from jsonb_to_recordset(?::jsonb) as c("agentId" uuid, "connectedAt" timestamptz, held jsonb)),
       gone as (
         select e.id from executions e join c on e.agent_id = c."agentId"
          where e.status in (${IN_LOSABLE}) and coalesce(e.dispatched_at, e.started_at) < c."connectedAt"
            and e.id not in (select value::uuid from jsonb_array_elements_text(c.held))),
       ${lockedInOrder('executions', 'gone', 't.id = s.id')}
       update executions e set status = 'lost', finished_at = now(), reason = ?
         from locked l
        where e.id = l.id and e.status in (${IN_LOSABLE})
        returning e.id, e.run_id, e.agent_id`,
      [JSON.stringify(agents), ...LOSABLE, NOT_ON_AGENT_REASON, ...LOSABLE],
    );
    const byAgent = new Map<string, LostExecution[]>();
    for (const row of rows) {
      const ofAgent = byAgent.get(row.agent_id);
      if (ofAgent) ofAgent.push(row);
      else byAgent.set(row.agent_id, [row]);
    }
    // PostgreSQL answers with uuids in lower case, whatever case the agent wrote its id in.
    return agents.map((agent) => byAgent.get(agent.agentId.toLowerCase()) ?? []);
  }, CONNECT_GATHER);
}
