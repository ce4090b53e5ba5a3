import {
  ACK_OK,
  ackError,
  DEFAULT_OUTPUT_CAP_BYTES,
  MAX_OUTPUT_CHUNK_BYTES,
  ProtocolErrorCode,
  type Ack,
  type ExecutionAssign,
} from '@outpost/protocol';
import type { OutboxMessage } from '../connection/outbox';
import { errorMessage } from '../errors';
import type { Logger } from '../logging/logger';
import { DEFAULT_START_REPORT_DELAY_MS, Execution, type ExecutionContext } from './execution';
import type { LeftoverProcesses } from './leftover-processes';
import type { ProcessTree } from './process-tree';

/**
 * Execution ids this agent accepted. `add` throws when it cannot record the id at all; its
 * promise resolves once the record survives a power cut (and rejects if it cannot).
 */
export interface AcceptedExecutions {
  has(executionId: string): boolean;
  add(executionId: string): Promise<void>;
}

export interface RunnerOptions {
  report: (message: OutboxMessage) => void;
  /** Null while reports have room; otherwise resolves once they have (output waits on it). */
  room: () => Promise<void> | null;
  /** Kept across restarts, so a dispatch resent after a restart never runs twice. */
  accepted: AcceptedExecutions;
  processTree: ProcessTree;
  platform: NodeJS.Platform;
  dataDir: string;
  maxConcurrent: number;
  killGraceMs: number;
  logger: Logger;
  /** Small writes wait this long to share a chunk: output stays live without one message per line. */
  coalesceMs?: number;
  /** A command that ends within this is reported by its result alone (see Execution). */
  startReportDelayMs?: number;
  /** Running commands' process groups, noted so a later agent process can stop what this one left. */
  leftovers: LeftoverProcesses | null;
}

/** A few ms: enough to gather a burst of lines into one message, short enough to look live. */
const DEFAULT_COALESCE_MS = 20;

/** Takes dispatches, runs each at most once, within the concurrency limit, and stops them on demand. */
export class Runner {
  private readonly running = new Map<string, { execution: Execution; done: Promise<void> }>();
  private accepting = true;
  private maxChunkBytes = MAX_OUTPUT_CHUNK_BYTES;
  private outputCapBytes = DEFAULT_OUTPUT_CAP_BYTES;

  constructor(private readonly options: RunnerOptions) {}

  get runningCount(): number {
    return this.running.size;
  }

  /** Executions running now. */
  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /** The hub's limits from its welcome; they apply to executions started from now on. */
  setLimits(limits: { maxChunkBytes: number; outputCapBytes: number }): void {
    // The wire schema refuses anything larger, whatever the hub says.
    this.maxChunkBytes = Math.min(limits.maxChunkBytes, MAX_OUTPUT_CHUNK_BYTES);
    this.outputCapBytes = limits.outputCapBytes;
  }

  assign(assign: ExecutionAssign): Ack {
    const { executionId } = assign;
    // A redelivery of something this agent (or its previous process) runs or ran: the hub
    // missed our ack or our restart. Never run it twice.
    if (this.running.has(executionId) || this.options.accepted.has(executionId)) return ACK_OK;
    if (!this.accepting) return ackError(ProtocolErrorCode.Conflict, 'agent is shutting down');
    if (this.running.size >= this.options.maxConcurrent) {
      return ackError(ProtocolErrorCode.Conflict, 'agent at capacity');
    }
    let recorded: Promise<void>;
    try {
      recorded = this.options.accepted.add(executionId);
    } catch (error) {
      // Running it unrecorded could run it twice after a restart; the hub keeps it queued instead.
      this.options.logger.error({ executionId, error: errorMessage(error) }, 'cannot record an accepted execution');
      return ackError(ProtocolErrorCode.Internal, 'agent cannot record the execution on disk');
    }
    // Acked now; the command starts once the record is synced (see ExecutionLedger).
    const execution = new Execution(assign, this.executionContext(), recorded);
    const done = execution.run().finally(() => {
      this.running.delete(executionId);
    });
    this.running.set(executionId, { execution, done });
    return ACK_OK;
  }

  cancel(executionId: string): Ack {
    const entry = this.running.get(executionId);
    if (entry !== undefined) {
      entry.execution.stop('canceled');
      return ACK_OK;
    }
    // Already over: its result is on the way, so the cancel has nothing left to do.
    if (this.options.accepted.has(executionId)) return ACK_OK;
    return ackError(ProtocolErrorCode.NotFound, 'no such execution on this agent');
  }

  /**
   * Refuses new dispatches, gives running executions `graceMs` to end by themselves, then stops
   * the rest (`agent_shutdown`). Resolves when every result has been handed to the outbox.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    if (this.running.size === 0) return;
    this.options.logger.info({ running: this.running.size, graceMs }, 'waiting for running executions');
    let timer: NodeJS.Timeout | undefined;
    const allDone = Promise.all([...this.running.values()].map((entry) => entry.done));
    const inTime = await Promise.race([
      allDone.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(resolve, graceMs, false);
      }),
    ]);
    clearTimeout(timer);
    if (inTime) return;
    this.options.logger.warn({ running: this.running.size }, 'stopping executions still running');
    const remaining = [...this.running.values()];
    for (const entry of remaining) entry.execution.stop('agent_shutdown');
    await Promise.all(remaining.map((entry) => entry.done));
  }

  private executionContext(): ExecutionContext {
    const { options } = this;
    return {
      report: options.report,
      processTree: options.processTree,
      platform: options.platform,
      dataDir: options.dataDir,
      killGraceMs: options.killGraceMs,
      maxChunkBytes: this.maxChunkBytes,
      outputCapBytes: this.outputCapBytes,
      room: options.room,
      coalesceMs: options.coalesceMs ?? DEFAULT_COALESCE_MS,
      startReportDelayMs: options.startReportDelayMs ?? DEFAULT_START_REPORT_DELAY_MS,
      logger: options.logger,
      leftovers: options.leftovers,
    };
  }
}
