import { Injectable, Logger } from '@nestjs/common';
import { EntityManager, raw } from '@mikro-orm/postgresql';
import {
  type Ack,
  ACK_OK,
  ackError,
  type ExecutionFinished,
  type ExecutionOutput,
  type ExecutionStarted,
} from '@outpost/protocol';
import { batchLoader } from '../common/batching/batch-loader';
import { lockedInOrder } from '../common/database/locked-in-order';
import { PreparedStatement } from '../common/database/prepared-statement';
import { AppError } from '../common/errors/app-error';
import type { Page } from '../common/validation/common-schemas';
import { Execution } from './execution.entity';
import { type ExecutionEvent, type ExecutionStatus, isFinalExecutionStatus, statusesLeadingTo } from './execution-state';
import { type ExecutionView, toExecutionView } from './execution-views';
import { DispatchAcks } from './dispatch-acks';
import { ExecutionDispatcher } from './execution-dispatcher';
import { runsToRunning } from './execution-locks';
import { OutputEvents } from './output-events';
import { RunProgressService } from './run-progress.service';

export const EXECUTION_SORT_FIELDS = ['createdAt', 'startedAt', 'finishedAt'] as const;

export interface ExecutionListQuery {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  sort: (typeof EXECUTION_SORT_FIELDS)[number];
  status?: ExecutionStatus[] | undefined;
  agentId?: string | undefined;
  runId?: string | undefined;
  jobId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

const STARTED_FROM = statusesLeadingTo('started', 'running')
  .map((s) => `'${s}'`)
  .join(', ');

/**
 * Start reports, stored together; also moves pending runs to running. A row for every execution
 * reported that is the reporting agent's, whether the report started it or not (a result that
 * overtook its start, a resend), with its status then: a fan-out of quick commands has many of
 * those, and reading each one back cost a statement per agent.
 */
const STORE_STARTS = new PreparedStatement(
  'store-starts',
  `with report as (
     select * from jsonb_to_recordset(?::jsonb) as r(id uuid, agent uuid, pid integer, "startedAt" timestamptz, "ackedAt" timestamptz)),
   ${lockedInOrder('executions', 'report', 't.id = s.id and t.agent_id = s.agent', ['status'])},
   started as (
     update executions e set status = 'running', pid = r.pid, started_at = r."startedAt",
            -- The agent acks a dispatch before it starts, but its start report may be stored first
            -- (DispatchAcks leaves the ack's own write out then, and hands over its time).
            dispatched_at = coalesce(e.dispatched_at, r."ackedAt", now())
       from report r, locked l
      where e.id = r.id and e.id = l.id and e.status in (${STARTED_FROM})
      returning e.id, e.run_id),
   run as (${runsToRunning('started')})
   select l.id, l.status, exists (select 1 from started s where s.id = l.id) as started from locked l`,
);

/** Results, stored together, guarded by the states each result may end (`from`). */
const STORE_RESULTS = new PreparedStatement(
  'store-results',
  `with result as (
     select * from jsonb_to_recordset(?::jsonb) as r(
       id uuid, agent uuid, status text, "from" text[], "exitCode" integer, signal text, reason text,
       "startedAt" timestamptz, "finishedAt" timestamptz, "outputChunks" integer, "outputDroppedBytes" bigint, pid integer, "ackedAt" timestamptz)),
   ${lockedInOrder('executions', 'result', 't.id = s.id and t.agent_id = s.agent')}
   update executions e set status = r.status, exit_code = r."exitCode", signal = r.signal,
          reason = case when e.status = 'lost' then 'late_result'
                        when r.status = 'canceled' and e.cancel_requested_by is not null then 'canceled by ' || e.cancel_requested_by
                        else r.reason end,
          -- A result may overtake its own start report: it carries what that report would have set.
          started_at = coalesce(e.started_at, r."startedAt"), pid = coalesce(e.pid, r.pid), dispatched_at = coalesce(e.dispatched_at, r."ackedAt", now()),
          finished_at = r."finishedAt", output_chunks = r."outputChunks",
          output_truncated = r."outputDroppedBytes" > 0, output_dropped_bytes = r."outputDroppedBytes"
     from result r, locked l
    where e.id = r.id and e.id = l.id and e.status = any(r."from")
    returning e.id, e.run_id`,
);

const RESULT_EVENT: Record<ExecutionFinished['status'], ExecutionEvent> = {
  succeeded: 'result_succeeded',
  failed: 'result_failed',
  timed_out: 'result_timed_out',
  canceled: 'result_canceled',
};

/**
 * Executions: what agents report about them, and what users read. An agent may report only on
 * executions dispatched to it: its id comes from the authenticated connection, never the payload.
 */
@Injectable()
export class ExecutionsService {
  private readonly logger = new Logger(ExecutionsService.name);

  constructor(
    private readonly em: EntityManager,
    private readonly runs: RunProgressService,
    private readonly dispatcher: ExecutionDispatcher,
    private readonly outputEvents: OutputEvents,
    private readonly acks: DispatchAcks,
  ) {}

  async get(id: string) {
    const execution = await this.em.fork().findOne(Execution, { id });
    if (!execution) throw AppError.notFound('Execution', id);
    return toExecutionView(execution);
  }

  async list(query: ExecutionListQuery): Promise<Page<ExecutionView>> {
    const where = {
      ...(query.status ? { status: { $in: query.status } } : {}),
      ...(query.agentId ? { agentId: query.agentId } : {}),
      ...(query.runId ? { runId: query.runId } : {}),
      ...(query.jobId ? { [raw((alias) => `${alias}.run_id in (select id from runs where job_id = ?)`, [query.jobId])]: [] } : {}),
      ...(query.from || query.to ? { createdAt: { ...(query.from ? { $gte: query.from } : {}), ...(query.to ? { $lte: query.to } : {}) } } : {}),
    };
    const [rows, total] = await this.em.fork().findAndCount(Execution, where, {
      orderBy: { [query.sort]: query.order, id: query.order },
      limit: query.limit,
      offset: query.offset,
    });
    return { items: rows.map(toExecutionView), total, limit: query.limit, offset: query.offset };
  }

  /**
   * Cancel: an execution the agent never received ends at once; one it holds is asked to stop
   * (its whole process tree) and ends `canceled` when the agent reports it. The request is kept,
   * so an agent that was away hears it when it reconnects.
   */
  async cancel(id: string, userId: string): Promise<ExecutionView> {
    const em = this.em.fork();
    const execution = await em.findOne(Execution, { id });
    if (!execution) throw AppError.notFound('Execution', id);
    if (isFinalExecutionStatus(execution.status)) {
      throw new AppError('CONFLICT', `Execution ${id} already ended ${execution.status}`);
    }
    await this.requestCancel(execution, userId);
    return toExecutionView((await em.fork().findOne(Execution, { id }))!);
  }

  /** Used for one execution and for every execution of a canceled run; `userId` null is the scheduler replacing a run. */
  async requestCancel(execution: Execution, userId: string | null): Promise<void> {
    const em = this.em.fork();
    const now = new Date();
    const endedNow = await em.nativeUpdate(
      Execution,
      { id: execution.id, status: { $in: statusesLeadingTo('cancel_undelivered', 'canceled') } },
      { status: 'canceled', reason: `canceled by ${userId ?? 'the scheduler'} before delivery`, finishedAt: now, cancelRequestedAt: now, cancelRequestedBy: userId },
    );
    if (endedNow === 1) {
      await this.runs.settle(execution.runId);
      return;
    }
    await em.nativeUpdate(
      Execution,
      { id: execution.id, status: { $in: ['dispatched', 'running'] }, cancelRequestedAt: null },
      { cancelRequestedAt: now, cancelRequestedBy: userId },
    );
    await this.dispatcher.requestCancel(execution.agentId, execution.id);
  }

  /**
   * One guarded statement per batch of reports, which also checks ownership and moves pending
   * runs to running. A report that changed nothing is a duplicate, a start its result overtook,
   * or a start of an execution canceled meanwhile, which is then stopped on the host.
   */
  async reportStarted(agentId: string, report: ExecutionStarted): Promise<Ack> {
    const ackedAt = this.acks.reported(agentId, report.executionId);
    const stored = await this.startedLoader.load({ agentId, report, ackedAt });
    if (stored === null) return this.notYours(agentId, report.executionId, 'started');
    if (stored.started) this.outputEvents.notify(report.executionId);
    else if (stored.status === 'canceled') this.dispatcher.stopCanceled(agentId, [report.executionId]);
    return ACK_OK;
  }

  /** Per report: null when the execution is not the agent's; else whether it started it, and the status it found. */
  private readonly startedLoader = batchLoader<
    { agentId: string; report: ExecutionStarted; ackedAt: Date | null },
    { started: boolean; status: ExecutionStatus } | null
  >(async (reports) => {
    const rows = await STORE_STARTS.run<{ id: string; status: ExecutionStatus; started: boolean }>(this.em.fork(), [
      JSON.stringify(
        reports.map(({ agentId, report, ackedAt }) => ({ id: report.executionId, agent: agentId, pid: report.pid, startedAt: report.startedAt, ackedAt })),
      ),
    ]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    // The same report twice in one batch: the first caller started it, the second is a duplicate.
    return reports.map(({ report }) => {
      const row = byId.get(report.executionId);
      if (!row) return null;
      const outcome = { started: row.started, status: row.status };
      row.started = false;
      return outcome;
    });
  });

  /**
   * Stored once per (execution, seq), in one statement that also checks ownership: a resent chunk
   * is acknowledged and changes nothing; the row is read only when nothing was inserted.
   */
  async reportOutput(agentId: string, chunk: ExecutionOutput): Promise<Ack> {
    const inserted = await this.em.fork().execute<{ seq: number }[]>(
      `insert into execution_output (execution_id, seq, stream, "offset", data, created_at)
       select ?, ?, ?, ?, ?, coalesce(?::timestamptz, now())
        where exists (select 1 from executions where id = ? and agent_id = ?)
       on conflict (execution_id, seq) do nothing
       returning seq`,
      [chunk.executionId, chunk.seq, chunk.stream, chunk.offset, Buffer.from(chunk.data), chunk.at ?? null, chunk.executionId, agentId],
    );
    if (inserted.length === 0 && !(await this.owned(agentId, chunk.executionId))) return this.notYours(agentId, chunk.executionId, 'output');
    this.outputEvents.notify(chunk.executionId);
    return ACK_OK;
  }

  /**
   * The result, stored by a guarded update shared with the other results that arrived together;
   * the run moves on after it. A duplicate or late result changes nothing and is acked.
   */
  async reportFinished(agentId: string, result: ExecutionFinished): Promise<Ack> {
    const ackedAt = this.acks.reported(agentId, result.executionId);
    const runId = await this.finishedLoader.load({ agentId, result, ackedAt });
    if (runId === null && !(await this.owned(agentId, result.executionId))) return this.notYours(agentId, result.executionId, 'finished');
    if (runId !== null) {
      this.outputEvents.notify(result.executionId);
      await this.runs.settle(runId);
      await waitersAnswered();
    }
    // A slot on the agent is free again: whatever it turned away can go.
    this.dispatcher.slotFreed(agentId);
    return ACK_OK;
  }

  /** Resolves to the run of each execution the result changed, null where it changed nothing. */
  private readonly finishedLoader = batchLoader<{ agentId: string; result: ExecutionFinished; ackedAt: Date | null }, string | null>(async (results) => {
    const rows = await STORE_RESULTS.run<{ id: string; run_id: string }>(this.em.fork(), [
      JSON.stringify(
        results.map(({ agentId, result, ackedAt }) => ({
          id: result.executionId,
          agent: agentId,
          status: result.status,
          from: statusesLeadingTo(RESULT_EVENT[result.status], result.status),
          exitCode: result.exitCode,
          signal: result.signal,
          reason: result.reason ?? reasonFromExit(result),
          startedAt: result.startedAt,
          finishedAt: result.finishedAt,
          outputChunks: result.outputChunks,
          outputDroppedBytes: result.outputDroppedBytes ?? 0,
          pid: result.pid ?? null,
          ackedAt,
        })),
      ),
    ]);
    const runOf = new Map(rows.map((row) => [row.id, row.run_id]));
    // The same result twice in one batch: the first caller carries it, the second is a duplicate.
    return results.map(({ result }) => {
      const runId = runOf.get(result.executionId) ?? null;
      runOf.delete(result.executionId);
      return runId;
    });
  });

  private owned(agentId: string, executionId: string): Promise<Execution | null> {
    return this.em.fork().findOne(Execution, { id: executionId, agentId });
  }

  /** A report about an execution never dispatched to this agent (or none at all): refused, nothing written. */
  private notYours(agentId: string, executionId: string, report: 'started' | 'output' | 'finished'): Ack {
    this.logger.warn({ agentId, executionId, report }, 'agent report refused: execution not dispatched to this agent');
    return ackError('NOT_FOUND', `execution ${executionId} was not dispatched to this agent`);
  }
}

/**
 * Resolves in the next turn of the event loop, once those woken by a run's end (`?wait=`, the
 * SSE streams) have written their answers. The acks of a fan-out's results are settled in the
 * same batch; written first, a hundred of them held the user's answer back ~25 ms. An ack only
 * lets the agent drop a result it keeps on disk, so it can wait a turn.
 */
const waitersAnswered = () => new Promise<void>((resolve) => setImmediate(resolve));

function reasonFromExit(result: ExecutionFinished): string {
  if (result.signal) return `signal ${result.signal}`;
  return `exit code ${result.exitCode ?? 'unknown'}`;
}
