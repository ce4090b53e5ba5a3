import type { Readable } from 'node:stream';
import {
  AgentToHubEvent,
  type AgentResultStatus,
  type ExecutionAssign,
  type ExecutionFinished,
  type OutputStream,
} from '@outpost/protocol';
import { execa, type Result } from 'execa';
import type { OutboxMessage } from '../connection/outbox';
import { errorMessage } from '../errors';
import type { Logger } from '../logging/logger';
import { OutputCap } from './output-cap';
import { OutputChunker } from './output-chunker';
import type { ProcessTree } from './process-tree';
import type { LeftoverProcesses } from './leftover-processes';
import { SecretMasker } from './secret-masker';
import { discardSpawn, prepareSpawn, type SpawnPlan } from './spawn-plan';

/** Why the agent stopped an execution before it ended by itself. */
export type StopReason = 'timeout' | 'canceled' | 'agent_shutdown';

export interface ExecutionContext {
  report: (message: OutboxMessage) => void;
  processTree: ProcessTree;
  platform: NodeJS.Platform;
  dataDir: string;
  killGraceMs: number;
  maxChunkBytes: number;
  /** Output kept per execution: head and tail, the middle dropped (see OutputCap). */
  outputCapBytes: number;
  /** Null while the outbox has room for output; otherwise resolves once it has. */
  room: () => Promise<void> | null;
  coalesceMs: number;
  /** A command that ends within this is reported by its result alone (DEFAULT_START_REPORT_DELAY_MS). */
  startReportDelayMs: number;
  logger: Logger;
  /** Where running commands' process groups are noted, for the next agent process (Linux). */
  leftovers: LeftoverProcesses | null;
}

type Outcome = Pick<ExecutionFinished, 'status' | 'exitCode' | 'signal' | 'reason'>;

/**
 * Once the tree is stopped its pipes close within moments, but a process that left the group
 * (setsid) can still hold them open; past this wait they are closed from our side, so a result
 * is always reported.
 */
const PIPE_DRAIN_MS = 2_000;

/** The wire limit of `finished.reason`. */
const REASON_MAX = 1024;

/**
 * A command that ends this soon after its spawn is reported by its result alone, which carries
 * its start time and pid (protocol 1.4): for the many quick commands, one message, one ack and
 * one database write fewer. A longer one is reported running after this delay, or at its first
 * output if that comes sooner, so the hub never gets output before the start.
 */
export const DEFAULT_START_REPORT_DELAY_MS = 10;

type Subprocess = ReturnType<typeof spawnSubprocess>;

/** One execution on this host: spawn, stream masked output, stop on demand, report the result. */
export class Execution {
  private readonly secrets: string[];
  private stopReason: StopReason | null = null;
  private stopping: Promise<void> | null = null;
  /** The command and its output are over: a late cancel or timeout must not relabel the result. */
  private ended = false;
  private subprocess: Subprocess | null = null;
  private startedAt: string | null = null;
  private startReport: NodeJS.Timeout | undefined;
  /** The start was reported, or no longer needs to be (the result says it). */
  private startDone = false;
  private outputChunks = 0;
  private outputDroppedBytes = 0;
  /** Resolves on stop: output no longer waits for room, so a stopped command's pipes drain and it ends. */
  private readonly stopped: Promise<void>;
  private onStopped: () => void = () => undefined;

  /** Null once the execution's acceptance is on disk for good; the error if it cannot be. */
  private readonly recorded: Promise<Error | null>;

  constructor(
    private readonly assign: ExecutionAssign,
    private readonly context: ExecutionContext,
    recorded: Promise<void> = Promise.resolve(),
  ) {
    // Settled into a value at once: a failed sync must not surface as an unhandled rejection
    // while the spawn is still being prepared.
    this.recorded = recorded.then(
      () => null,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    this.secrets = assign.secretEnv.flatMap((name) => assign.env[name] ?? []);
    this.stopped = new Promise((resolve) => {
      this.onStopped = resolve;
    });
  }

  get id(): string {
    return this.assign.executionId;
  }

  /** Runs to the end and reports `finished`; never rejects. */
  async run(): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.prepareAndRun();
    } catch (error) {
      this.context.logger.error(
        { executionId: this.id, error: errorMessage(error) },
        'execution failed inside the agent',
      );
      outcome = { status: 'failed', exitCode: null, signal: null, reason: `agent_error: ${errorMessage(error)}` };
    }
    this.finish(outcome);
  }

  /** Stops the whole process tree; the first reason given is the one reported. */
  stop(reason: StopReason): void {
    if (this.stopReason !== null || this.ended) return;
    this.stopReason = reason;
    this.onStopped();
    const pid = this.subprocess?.pid;
    if (pid !== undefined) this.stopTree(pid);
  }

  private async prepareAndRun(): Promise<Outcome> {
    let plan: SpawnPlan;
    try {
      plan = await prepareSpawn(this.assign.spec, {
        platform: this.context.platform,
        dataDir: this.context.dataDir,
        executionId: this.id,
      });
    } catch (error) {
      return spawnErrorOutcome(errorMessage(error));
    }
    try {
      // A command whose acceptance is not durable could run again after a restart: never start it.
      const unrecorded = await this.recorded;
      if (unrecorded !== null) throw new Error(`cannot record the execution on disk: ${errorMessage(unrecorded)}`);
      // Stopped while the script was being written: never start it.
      if (this.stopReason !== null) return stoppedOutcome(this.stopReason, null, null);
      return await this.spawnAndWait(plan);
    } finally {
      await discardSpawn(plan).catch((error: unknown) =>
        this.context.logger.warn({ executionId: this.id, error: errorMessage(error) }, 'cannot delete script file'),
      );
    }
  }

  private async spawnAndWait(plan: SpawnPlan): Promise<Outcome> {
    const { context } = this;
    const subprocess = spawnSubprocess(plan, this.assign, context.processTree.detached);
    this.subprocess = subprocess;
    const pid = subprocess.pid;
    if (pid === undefined) {
      const result = await subprocess;
      return spawnErrorOutcome(result.originalMessage ?? result.shortMessage ?? 'cannot start the process');
    }

    this.startedAt = new Date().toISOString();
    this.startReport = setTimeout(() => this.reportStarted(), context.startReportDelayMs);
    context.logger.info({ executionId: this.id, pid }, 'execution started');
    context.leftovers?.record(this.id, pid, context.logger);
    try {
      return await this.waitForExit(subprocess);
    } finally {
      context.leftovers?.forget(this.id);
    }
  }

  private async waitForExit(subprocess: Subprocess): Promise<Outcome> {
    const { context } = this;

    const { timeoutSeconds } = this.assign;
    const timeout =
      timeoutSeconds === undefined ? undefined : setTimeout(() => this.stop('timeout'), timeoutSeconds * 1_000);
    const chunker = new OutputChunker({
      maxChunkBytes: context.maxChunkBytes,
      coalesceMs: context.coalesceMs,
      emit: (chunk) => {
        this.reportStarted();
        context.report({
          event: AgentToHubEvent.ExecutionOutput,
          payload: { executionId: this.id, ...chunk, at: new Date().toISOString() },
        });
      },
    });
    const cap = new OutputCap({ capBytes: context.outputCapBytes, write: (stream, data) => chunker.write(stream, data) });
    const [result] = await Promise.all([
      subprocess,
      this.pump(subprocess.stdout, 'stdout', cap),
      this.pump(subprocess.stderr, 'stderr', cap),
    ]);
    this.ended = true;
    clearTimeout(timeout);
    // A stop in progress must see the whole group gone before the result is final.
    if (this.stopping !== null) await this.stopping;
    this.outputDroppedBytes = cap.end();
    chunker.flush();
    this.outputChunks = chunker.chunkCount;

    const exitCode = result.exitCode ?? null;
    const signal = result.signal ?? null;
    return this.stopReason !== null
      ? stoppedOutcome(this.stopReason, exitCode, signal)
      : exitOutcome(exitCode, signal, result.originalMessage);
  }

  /**
   * Each stream has its own masker: a secret can be split across writes of one stream only.
   * While the outbox is full the loop stops reading, so the pipe fills and the command blocks
   * on its next write: back-pressure instead of memory. Only the head reaches the outbox; the
   * rest goes to the cap's ring, which never needs to wait.
   */
  private async pump(stream: Readable | null, name: OutputStream, cap: OutputCap): Promise<void> {
    if (stream === null) return;
    const masker = new SecretMasker(this.secrets);
    try {
      for await (const data of stream) {
        const room = cap.passing ? this.context.room() : null;
        if (room !== null) await Promise.race([room, this.stopped]);
        cap.write(name, masker.write(data as Buffer));
      }
    } catch (error) {
      // Only a stream we destroyed after a stop ends this way; the output up to here is kept.
      this.context.logger.debug({ executionId: this.id, error: errorMessage(error) }, 'output stream closed early');
    } finally {
      cap.write(name, masker.end());
    }
  }

  private stopTree(pid: number): void {
    const { context } = this;
    context.logger.info({ executionId: this.id, reason: this.stopReason }, 'stopping execution');
    this.stopping = context.processTree
      .stop(pid, context.killGraceMs)
      .catch((error: unknown) => {
        context.logger.error({ executionId: this.id, error: errorMessage(error) }, 'cannot stop process tree');
        return false;
      })
      .then(async (gone) => {
        if (!gone) context.logger.error({ executionId: this.id, pid }, 'processes survived the kill');
        const subprocess = this.subprocess;
        if (subprocess === null) return;
        let timer: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          subprocess.then(() => true),
          new Promise<false>((resolve) => {
            timer = setTimeout(resolve, PIPE_DRAIN_MS, false);
          }),
        ]);
        clearTimeout(timer);
        if (!drained) {
          subprocess.stdout?.destroy();
          subprocess.stderr?.destroy();
        }
      });
  }

  private reportStarted(): void {
    clearTimeout(this.startReport);
    const pid = this.subprocess?.pid;
    if (this.startDone || this.startedAt === null || pid === undefined) return;
    this.startDone = true;
    this.context.report({
      event: AgentToHubEvent.ExecutionStarted,
      payload: { executionId: this.id, pid, startedAt: this.startedAt },
    });
  }

  private finish(outcome: Outcome): void {
    clearTimeout(this.startReport);
    this.startDone = true;
    const finished: ExecutionFinished = {
      executionId: this.id,
      ...outcome,
      reason: outcome.reason === null ? null : this.wireReason(outcome.reason),
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
      outputChunks: this.outputChunks,
      outputDroppedBytes: this.outputDroppedBytes,
      pid: this.subprocess?.pid ?? null,
    };
    this.context.report({ event: AgentToHubEvent.ExecutionFinished, payload: finished });
    this.context.logger.info(
      {
        executionId: this.id,
        status: finished.status,
        exitCode: finished.exitCode,
        signal: finished.signal,
        reason: finished.reason,
        outputDroppedBytes: finished.outputDroppedBytes,
      },
      'execution finished',
    );
  }
  /** Error texts can quote a path or an argument: they leave the host masked, on one line, within the wire limit. */
  private wireReason(reason: string): string {
    return new SecretMasker(this.secrets).maskText(reason).replace(/\s*\n\s*/g, '; ').slice(0, REASON_MAX);
  }
}

function spawnSubprocess(plan: SpawnPlan, assign: ExecutionAssign, detached: boolean) {
  return execa(plan.file, plan.args, {
    // Laid over the agent's own environment (execa's extendEnv), so PATH and the like stay.
    env: assign.env,
    cwd: assign.cwd,
    stdin: 'ignore',
    buffer: false,
    encoding: 'buffer',
    reject: false,
    detached,
    windowsHide: true,
  });
}

/** How an execution that ended by itself is reported. */
function exitOutcome(
  exitCode: number | null,
  signal: string | null,
  errorText: Result['originalMessage'],
): Outcome {
  let status: AgentResultStatus = 'failed';
  let reason: string | null = null;
  if (exitCode === 0) status = 'succeeded';
  else if (exitCode === null && signal === null) reason = `agent_error: ${errorText ?? 'no exit status'}`;
  return { status, exitCode, signal, reason };
}

/** How an execution the agent stopped is reported, whatever exit status the kill produced. */
function stoppedOutcome(stopReason: StopReason, exitCode: number | null, signal: string | null): Outcome {
  switch (stopReason) {
    case 'timeout':
      return { status: 'timed_out', exitCode, signal, reason: 'timeout' };
    case 'canceled':
      return { status: 'canceled', exitCode, signal, reason: 'canceled' };
    case 'agent_shutdown':
      return { status: 'canceled', exitCode, signal, reason: 'agent_shutdown' };
  }
}

function spawnErrorOutcome(message: string): Outcome {
  return { status: 'failed', exitCode: null, signal: null, reason: `spawn_error: ${message}` };
}
