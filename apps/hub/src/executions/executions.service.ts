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
import { AppError } from '../common/errors/app-error';
import type { Page } from '../common/validation/common-schemas';
import { Execution } from './execution.entity';
import { type ExecutionEvent, type ExecutionStatus, isFinalExecutionStatus, statusesLeadingTo } from './execution-state';
import { type ExecutionView, toExecutionView } from './execution-views';
import { ExecutionDispatcher } from './execution-dispatcher';
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
   * One guarded statement that also checks ownership and moves a pending run to running; only
   * when it changes nothing is the row read, to tell a duplicate report from a stranger's.
   */
  async reportStarted(agentId: string, report: ExecutionStarted): Promise<Ack> {
    const from = statusesLeadingTo('started', 'running');
    const [result] = await this.em.fork().execute<{ started: number }[]>(
      `with started as (
         update executions set status = 'running', pid = ?, started_at = ?,
                -- The agent acks a dispatch before it starts, but its start report may be stored first.
                dispatched_at = coalesce(dispatched_at, now())
          where id = ? and agent_id = ? and status in (${from.map(() => '?').join(', ')})
          returning run_id),
       run as (
         update runs set status = 'running' where id in (select run_id from started) and status = 'pending')
       select count(*)::int as started from started`,
      [report.pid, new Date(report.startedAt), report.executionId, agentId, ...from],
    );
    if (result?.started === 1) {
      this.outputEvents.notify(report.executionId);
      return ACK_OK;
    }
    return (await this.owned(agentId, report.executionId)) ? ACK_OK : this.notYours(agentId, report.executionId, 'started');
  }

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

  async reportFinished(agentId: string, result: ExecutionFinished): Promise<Ack> {
    const execution = await this.owned(agentId, result.executionId);
    if (!execution) return this.notYours(agentId, result.executionId, 'finished');
    const event = RESULT_EVENT[result.status];
    const em = this.em.fork();
    const from = statusesLeadingTo(event, result.status);
    const updated = await em.nativeUpdate(
      Execution,
      { id: execution.id, agentId, status: { $in: from } },
      {
        status: result.status,
        exitCode: result.exitCode,
        signal: result.signal,
        reason:
          execution.status === 'lost'
            ? 'late_result'
            : result.status === 'canceled' && execution.cancelRequestedBy
              ? `canceled by ${execution.cancelRequestedBy}`
              : (result.reason ?? reasonFromExit(result)),
        startedAt: execution.startedAt ?? (result.startedAt ? new Date(result.startedAt) : null),
        dispatchedAt: execution.dispatchedAt ?? new Date(),
        finishedAt: new Date(result.finishedAt),
        outputChunks: result.outputChunks,
        outputTruncated: (result.outputDroppedBytes ?? 0) > 0,
        outputDroppedBytes: result.outputDroppedBytes ?? 0,
      },
    );
    if (updated === 1) this.outputEvents.notify(execution.id);
    if (updated === 1) await this.runs.settle(execution.runId);
    // A slot on the agent is free again: whatever it turned away can go.
    this.dispatcher.slotFreed(agentId);
    return ACK_OK;
  }

  private owned(agentId: string, executionId: string): Promise<Execution | null> {
    return this.em.fork().findOne(Execution, { id: executionId, agentId });
  }

  /** A report about an execution never dispatched to this agent (or none at all): refused, nothing written. */
  private notYours(agentId: string, executionId: string, report: 'started' | 'output' | 'finished'): Ack {
    this.logger.warn({ agentId, executionId, report }, 'agent report refused: execution not dispatched to this agent');
    return ackError('NOT_FOUND', `execution ${executionId} was not dispatched to this agent`);
  }
}

function reasonFromExit(result: ExecutionFinished): string {
  if (result.signal) return `signal ${result.signal}`;
  return `exit code ${result.exitCode ?? 'unknown'}`;
}
