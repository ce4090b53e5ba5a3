import type { Execution } from './execution.entity';
import { toRunFields } from './run-request.schema';
import type { Run, RunDefinition, StoredEnvValue } from './run.entity';

export interface ExecutionView {
  id: string;
  runId: string;
  agentId: string;
  attempt: number;
  status: Execution['status'];
  reason: string | null;
  exitCode: number | null;
  signal: string | null;
  /** The command's process id on its host, once the agent reported it. */
  pid: number | null;
  createdAt: string;
  dispatchedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  cancelRequestedAt: string | null;
  cancelRequestedBy: string | null;
  outputTruncated: boolean;
  outputDroppedBytes: number;
}

export function toExecutionView(e: Execution): ExecutionView {
  return {
    id: e.id,
    runId: e.runId,
    agentId: e.agentId,
    attempt: e.attempt,
    status: e.status,
    reason: e.reason,
    exitCode: e.exitCode,
    signal: e.signal,
    pid: e.pid ?? null,
    createdAt: e.createdAt.toISOString(),
    dispatchedAt: e.dispatchedAt?.toISOString() ?? null,
    startedAt: e.startedAt?.toISOString() ?? null,
    finishedAt: e.finishedAt?.toISOString() ?? null,
    durationMs: e.startedAt && e.finishedAt ? e.finishedAt.getTime() - e.startedAt.getTime() : null,
    cancelRequestedAt: e.cancelRequestedAt?.toISOString() ?? null,
    cancelRequestedBy: e.cancelRequestedBy,
    outputTruncated: e.outputTruncated,
    outputDroppedBytes: e.outputDroppedBytes,
  };
}

/** Secret env values never leave the hub through the API: only the fact that they are set. */
function publicEnv(env: Record<string, StoredEnvValue>): Record<string, string | { secret: true }> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.secret ? { secret: true as const } : v.value]));
}

/** The fields of a definition as the API shows them, shaped like the request that sets them. */
export function definitionView(definition: RunDefinition) {
  return { ...toRunFields(definition), env: publicEnv(definition.env) };
}

export function toRunSummary(run: Run) {
  return {
    id: run.id,
    status: run.status,
    trigger: run.trigger,
    scheduledAt: run.scheduledAt?.toISOString() ?? null,
    reason: run.reason,
    jobId: run.jobId,
    rerunOf: run.rerunOf,
    requestedBy: run.requestedBy,
    ...definitionView(run),
    canceledBy: run.canceledBy,
    createdAt: run.createdAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

/** A run with every attempt on every target. */
export function toRunView(run: Run, executions: Execution[]) {
  return { ...toRunSummary(run), executions: executions.map(toExecutionView) };
}
