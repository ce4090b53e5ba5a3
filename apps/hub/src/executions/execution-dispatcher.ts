import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from '@mikro-orm/postgresql';
import { ackSchema, type ExecutionAssign, type ExecutionCancel, HubToAgentEvent, parsePayload } from '@outpost/protocol';
import { AgentConnections } from '../agents/agent-connections';
import { HubSignalsService } from '../cluster/hub-signals.service';
import { batchLoader, CONNECT_GATHER } from '../common/batching/batch-loader';
import { idLockedInOrder } from '../common/database/locked-in-order';
import { SecretBox } from '../common/crypto/secret-box';
import { loggableError } from '../logging/loggable-error';
import { Execution } from './execution.entity';
import { DispatchAcks } from './dispatch-acks';
import type { Run } from './run.entity';

/** An agent that does not ack a dispatch within this time keeps it queued; it is sent again later. */
const ASSIGN_ACK_TIMEOUT_MS = 10_000;
/** Catches anything a missed kick left queued for a connected agent. */
const REDISPATCH_INTERVAL_MS = 2_000;
const BATCH = 64;

/** What an assign needs of a queued execution and its run. */
export interface PendingRow {
  id: string;
  run_id: string;
  agent_id: string;
  spec: Run['spec'];
  env: Run['env'];
  cwd: string | null;
  timeout_seconds: number | null;
}

/**
 * Delivers queued executions to connected agents, acked, one agent at a time in order. The
 * database is the queue: a dispatch that is not acked stays `queued` and is sent again; the
 * agent ignores an execution id it already holds, so a resend never runs a command twice.
 */
@Injectable()
export class ExecutionDispatcher implements OnApplicationBootstrap {
  private readonly logger = new Logger(ExecutionDispatcher.name);
  private readonly active = new Map<string, Promise<void>>();
  private readonly again = new Map<string, boolean>();
  /** Agents that refused a dispatch (at capacity, or no ack in time) since their last freed slot. */
  private readonly waitingForSlot = new Set<string>();

  constructor(
    private readonly em: EntityManager,
    private readonly connections: AgentConnections,
    private readonly scheduler: SchedulerRegistry,
    private readonly signals: HubSignalsService,
    private readonly box: SecretBox,
    private readonly acks: DispatchAcks,
  ) {
    acks.onOvertaken((agentId, executionIds) => this.stopCanceled(agentId, executionIds));
  }

  onApplicationBootstrap(): void {
    this.scheduler.addInterval('redispatch', setInterval(() => void this.redispatchAll(), REDISPATCH_INTERVAL_MS));
    this.signals.onSignal((signal) => {
      if (signal.kind === 'sign-out') return;
      const work = signal.kind === 'dispatch' ? this.dispatchHeldAgents(signal.runId) : this.cancelOnHeldAgents(signal.executionIds);
      work.catch((error: Error) => this.logger.warn(`acting on a hub signal failed: ${error.message}`));
    });
  }

  /**
   * Executions of this run are queued for these agents: the ones connected here get a round now;
   * for the others, the hubs that hold them are told (several hubs share one database). With
   * `queued`, the executions just written, an idle agent's round sends them without reading them
   * back; a busy one's next round reads the queue as usual.
   */
  wake(runId: string, agentIds: Iterable<string>, queued: PendingRow[] = []): void {
    const written = new Map<string, PendingRow[]>();
    for (const row of queued) {
      const owed = written.get(row.agent_id);
      if (owed) owed.push(row);
      else written.set(row.agent_id, [row]);
    }
    let elsewhere = false;
    for (const agentId of new Set(agentIds)) {
      if (this.connections.get(agentId)) this.kick(agentId, false, written.get(agentId));
      else elsewhere = true;
    }
    if (elsewhere) {
      this.signals.dispatchQueued(runId).catch((error: Error) => this.logger.warn(`dispatch signal failed: ${error.message}`));
    }
  }

  private async dispatchHeldAgents(runId: string): Promise<void> {
    const rows = await this.em
      .fork()
      .execute<{ agent_id: string }[]>(`select distinct agent_id from executions where run_id = ? and status = 'queued'`, [runId]);
    for (const row of rows) this.kick(row.agent_id);
  }

  private async cancelOnHeldAgents(executionIds: string[]): Promise<void> {
    const rows = await this.em
      .fork()
      .find(Execution, { id: { $in: executionIds }, status: { $in: ['dispatched', 'running'] } }, { fields: ['id', 'agentId'] });
    for (const row of rows) if (this.connections.get(row.agentId)) await this.sendCancel(row.agentId, row.id);
  }

  /**
   * A (re)connected agent gets a dispatch round, with resends, only when it has something owed:
   * queued or unstarted executions, or cancels it may have missed. Checked in batches, so a
   * fleet reconnecting at once costs a few queries, not one per agent.
   */
  agentConnected(agentId: string): void {
    this.owedLoader.load(agentId).then(
      (owed) => owed && this.kick(agentId, true),
      (error: Error) => this.logger.warn(`dispatch check for agent ${agentId} failed: ${error.message}`),
    );
  }

  private readonly owedLoader = batchLoader<string, boolean>(async (agentIds) => {
    const rows = await this.em.fork().execute<{ agent_id: string }[]>(
      `select distinct agent_id from executions
        where agent_id in (select value::uuid from jsonb_array_elements_text(?::jsonb))
          and (status in ('queued', 'dispatched') or (status = 'running' and cancel_requested_at is not null))`,
      [JSON.stringify(agentIds)],
    );
    const owed = new Set(rows.map((row) => row.agent_id));
    return agentIds.map((id) => owed.has(id));
  }, CONNECT_GATHER);

  /** An execution on this agent ended: a round only if the agent turned work away for lack of a slot. */
  slotFreed(agentId: string): void {
    if (this.waitingForSlot.delete(agentId)) this.kick(agentId);
  }

  /**
   * Asks for a dispatch round for one agent; rounds for the same agent never overlap, and kicks
   * during a round coalesce into one more round. `resendUnstarted` also resends executions the
   * agent acked but never reported started (after a reconnect it may not have them).
   */
  kick(agentId: string, resendUnstarted = false, queued?: PendingRow[]): void {
    if (!this.connections.get(agentId)) return;
    if (this.active.has(agentId)) {
      this.again.set(agentId, (this.again.get(agentId) ?? false) || resendUnstarted);
      return;
    }
    const round = this.dispatchRound(agentId, resendUnstarted, queued)
      .catch((error: Error) => this.logger.warn(`dispatch to agent ${agentId} failed: ${error.message}`))
      .finally(() => {
        this.active.delete(agentId);
        const pending = this.again.get(agentId);
        if (pending !== undefined) {
          this.again.delete(agentId);
          this.kick(agentId, pending);
        }
      });
    this.active.set(agentId, round);
  }

  private async dispatchRound(agentId: string, resendUnstarted: boolean, queued?: PendingRow[]): Promise<void> {
    const rows = queued ?? (await this.pendingLoader.load({ agentId, resendUnstarted }));
    for (const row of rows) {
      const socket = this.connections.get(agentId);
      if (!socket) return;
      const ack = await socket
        .timeout(ASSIGN_ACK_TIMEOUT_MS)
        .emitWithAck(HubToAgentEvent.ExecutionAssign, toAssign(row, this.box))
        .catch(() => null);
      const parsed = parsePayload(ackSchema, ack);
      if (!parsed.ok || !parsed.value.ok) {
        // Timeout or "at capacity": stays queued; tried again when the agent frees a slot, or by the sweep.
        this.waitingForSlot.add(agentId);
        return;
      }
      this.acks.acked(agentId, row.id);
    }
    if (rows.length === BATCH) this.again.set(agentId, this.again.get(agentId) ?? false);
    if (resendUnstarted) await this.resendCancels(agentId);
  }

  /** The next executions owed to each agent asking, oldest first, in one query for all of them. */
  private readonly pendingLoader = batchLoader<{ agentId: string; resendUnstarted: boolean }, PendingRow[]>(async (asks) => {
    const rows = await this.em.fork().execute<PendingRow[]>(
      `select e.id, e.run_id, e.agent_id, r.spec, r.env, r.cwd, r.timeout_seconds
         from jsonb_to_recordset(?::jsonb) as a("agentId" uuid, "resendUnstarted" boolean)
        cross join lateral (
          select e.id, e.run_id, e.agent_id, e.created_at from executions e
           where e.agent_id = a."agentId" and (e.status = 'queued' or (a."resendUnstarted" and e.status = 'dispatched'))
           order by e.created_at, e.id
           limit ${BATCH}) e
        join runs r on r.id = e.run_id
        order by e.created_at, e.id`,
      [JSON.stringify(asks)],
    );
    const byAgent = new Map<string, PendingRow[]>();
    for (const row of rows) {
      const owed = byAgent.get(row.agent_id);
      if (owed) owed.push(row);
      else byAgent.set(row.agent_id, [row]);
    }
    // Acked a moment ago and not yet written: still `queued` here, but the agent has it. After a
    // reconnect it is sent again all the same, as the agent may have restarted meanwhile.
    return asks.map((ask) => (byAgent.get(ask.agentId) ?? []).filter((row) => ask.resendUnstarted || !this.acks.has(row.id)));
  });

  /**
   * Asks the agent to stop an execution it holds, through whichever hub holds its socket; a lost
   * message is resent when the agent reconnects.
   */
  async requestCancel(agentId: string, executionId: string): Promise<void> {
    if (this.connections.get(agentId)) await this.sendCancel(agentId, executionId);
    else await this.signals.cancel([executionId]);
  }

  /**
   * The agent acked, or reports running, executions that may have been canceled before their
   * delivery was recorded: a cancel that overtook the assign or its ack's write ended them at
   * once, as undelivered. The ones that are `canceled` are stopped on the host, and a record that
   * said "before delivery" now says they were delivered. Not awaited by the report: a cancel lost
   * here is sent again when the agent reconnects and lists what it runs.
   */
  stopCanceled(agentId: string, executionIds: string[]): void {
    void this.canceledLoader.load({ agentId, executionIds });
  }

  /**
   * `stopCanceled`'s calls of one turn of the event loop in one statement: a fan-out whose
   * results beat their acks' write, or a fleet reconnecting with work in hand, makes one call per
   * agent, nearly all for executions that are not canceled.
   */
  private readonly canceledLoader = batchLoader<{ agentId: string; executionIds: string[] }, void>(async (held) => {
    const owned = held.flatMap(({ agentId, executionIds }) => executionIds.map((id) => ({ id, agent_id: agentId })));
    try {
      const rows = await this.em.fork().execute<{ id: string; agent_id: string }[]>(
        `with owned as (select * from jsonb_to_recordset(?::jsonb) as o(id uuid, agent_id uuid))
         update executions
            set dispatched_at = coalesce(dispatched_at, now()),
                reason = case when dispatched_at is null and started_at is null
                              then 'canceled by ' || coalesce(cancel_requested_by::text, 'the scheduler') || ' as it was delivered; stopped on the host'
                              else reason end
          where ${idLockedInOrder('executions', `status = 'canceled' and (id, agent_id) in (select id, agent_id from owned)`)}
            and status = 'canceled'
          returning id, agent_id`,
        [JSON.stringify(owned)],
      );
      // Not awaited: the next batch need not wait for these agents' acks.
      for (const row of rows) void this.sendCancel(row.agent_id, row.id);
    } catch (error) {
      this.logger.warn({ ...loggableError(error), agents: held.length }, 'could not stop executions canceled on their way to the agent');
    }
    return held.map(() => undefined);
  });

  private async sendCancel(agentId: string, executionId: string): Promise<boolean> {
    const socket = this.connections.get(agentId);
    if (!socket) return false;
    const payload: ExecutionCancel = { executionId, reason: 'canceled' };
    const ack = await socket
      .timeout(ASSIGN_ACK_TIMEOUT_MS)
      .emitWithAck(HubToAgentEvent.ExecutionCancel, payload)
      .catch(() => null);
    return parsePayload(ackSchema, ack).ok;
  }

  private async resendCancels(agentId: string): Promise<void> {
    const pending = await this.em
      .fork()
      .find(Execution, { agentId, status: { $in: ['dispatched', 'running'] }, cancelRequestedAt: { $ne: null } }, { fields: ['id'] });
    for (const execution of pending) await this.sendCancel(agentId, execution.id);
  }

  /**
   * Agents with queued executions, kicked when they are connected here. The queued set is small
   * and indexed; sending this hub's connected agents instead would put 10,000 ids into a
   * statement every round at fleet scale.
   */
  private async redispatchAll(): Promise<void> {
    const rows = await this.em
      .fork()
      .execute<{ agent_id: string }[]>(`select distinct agent_id from executions where status = 'queued'`)
      .catch((error: Error) => {
        this.logger.warn({ ...loggableError(error) }, 'redispatch sweep failed');
        return [];
      });
    for (const row of rows) if (this.connections.get(row.agent_id)) this.kick(row.agent_id);
  }
}

/** The one place a sealed secret is opened: on its way to the agent, which masks it in output. */
function toAssign(row: PendingRow, box: SecretBox): ExecutionAssign {
  const env = Object.fromEntries(Object.entries(row.env).map(([k, v]) => [k, v.secret ? box.open(v.sealed, k) : v.value]));
  const secretEnv = Object.entries(row.env)
    .filter(([, v]) => v.secret)
    .map(([k]) => k);
  return {
    executionId: row.id,
    runId: row.run_id,
    spec: row.spec,
    env,
    secretEnv,
    ...(row.cwd ? { cwd: row.cwd } : {}),
    ...(row.timeout_seconds ? { timeoutSeconds: row.timeout_seconds } : {}),
  };
}
