import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import {
  type Ack,
  ACK_OK,
  ackError,
  type ExecutionFinished,
  type ExecutionOutput,
  type ExecutionStarted,
} from '@outpost/protocol';
import { AppError } from '../common/errors/app-error';
import { Execution } from './execution.entity';
import { type ExecutionEvent, statusesLeadingTo } from './execution-state';
import { toExecutionView } from './execution-views';
import { ExecutionDispatcher } from './execution-dispatcher';
import { ExecutionOutputChunk } from './execution-output.entity';
import { RunProgressService } from './run-progress.service';

export type OutputSelection = 'stdout' | 'stderr' | 'combined';

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
  constructor(
    private readonly em: EntityManager,
    private readonly runs: RunProgressService,
    private readonly dispatcher: ExecutionDispatcher,
  ) {}

  async get(id: string) {
    const execution = await this.em.fork().findOne(Execution, { id });
    if (!execution) throw AppError.notFound('Execution', id);
    return toExecutionView(execution);
  }

  /** The stored output in order, as bytes: one stream or both interleaved as they were produced. */
  async output(id: string, selection: OutputSelection): Promise<Buffer> {
    const em = this.em.fork();
    if ((await em.count(Execution, { id })) === 0) throw AppError.notFound('Execution', id);
    const chunks = await em.find(
      ExecutionOutputChunk,
      { executionId: id, ...(selection === 'combined' ? {} : { stream: selection }) },
      { orderBy: { seq: 'asc' }, fields: ['data'] },
    );
    return Buffer.concat(chunks.map((c) => c.data));
  }

  async reportStarted(agentId: string, report: ExecutionStarted): Promise<Ack> {
    const execution = await this.owned(agentId, report.executionId);
    if (!execution) return notYours(report.executionId);
    const updated = await this.em.fork().nativeUpdate(
      Execution,
      { id: execution.id, agentId, status: { $in: statusesLeadingTo('started', 'running') } },
      { status: 'running', pid: report.pid, startedAt: new Date(report.startedAt) },
    );
    if (updated === 1) await this.runs.markRunning(execution.runId);
    return ACK_OK;
  }

  /** Stored once per (execution, seq): a resent chunk is acknowledged and changes nothing. */
  async reportOutput(agentId: string, chunk: ExecutionOutput): Promise<Ack> {
    const execution = await this.owned(agentId, chunk.executionId);
    if (!execution) return notYours(chunk.executionId);
    await this.em.fork().execute(
      `insert into execution_output (execution_id, seq, stream, "offset", data, created_at)
       values (?, ?, ?, ?, ?, now()) on conflict (execution_id, seq) do nothing`,
      [chunk.executionId, chunk.seq, chunk.stream, chunk.offset, Buffer.from(chunk.data)],
    );
    return ACK_OK;
  }

  async reportFinished(agentId: string, result: ExecutionFinished): Promise<Ack> {
    const execution = await this.owned(agentId, result.executionId);
    if (!execution) return notYours(result.executionId);
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
        reason: execution.status === 'lost' ? 'late_result' : (result.reason ?? reasonFromExit(result)),
        startedAt: execution.startedAt ?? (result.startedAt ? new Date(result.startedAt) : null),
        finishedAt: new Date(result.finishedAt),
        outputChunks: result.outputChunks,
      },
    );
    if (updated === 1) await this.runs.settle(execution.runId);
    // A slot on the agent is free again: whatever waits for it can go.
    this.dispatcher.kick(agentId);
    return ACK_OK;
  }

  private owned(agentId: string, executionId: string): Promise<Execution | null> {
    return this.em.fork().findOne(Execution, { id: executionId, agentId });
  }
}

function reasonFromExit(result: ExecutionFinished): string {
  if (result.signal) return `signal ${result.signal}`;
  return `exit code ${result.exitCode ?? 'unknown'}`;
}

function notYours(executionId: string): Ack {
  return ackError('NOT_FOUND', `execution ${executionId} was not dispatched to this agent`);
}
