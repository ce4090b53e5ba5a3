import type { ExecutionStatus } from './execution-state';
import type { RunDefinition } from './run.entity';

/**
 * What a run does next, decided from its policy and the state of its targets: pure, so every
 * rule of retries, maxFailures and concurrency is unit-tested without a database. The
 * RunProgressService applies the decision with guarded updates.
 */

export type RunPolicy = Pick<RunDefinition, 'concurrency' | 'maxFailures' | 'retries' | 'retryLost'>;

/** A target's last attempt, when it ended without success in a way that may count as a failure. */
export interface FailedAttempt {
  agentId: string;
  attempt: number;
  status: ExecutionStatus;
  finishedAt: Date;
}

export interface RunState {
  /** Executions released and not yet final: queued, dispatched or running. */
  inFlight: number;
  /** Last attempts of targets that ended failed, timed_out or lost. */
  failed: FailedAttempt[];
}

export interface RunStep {
  retries: { agentId: string; attempt: number; notBefore: Date }[];
  /** Set once maxFailures is reached: nothing more is dispatched and nothing more is retried. */
  stop: { failures: number; maxFailures: number } | null;
  /** How many pending executions may be released now; null when the run has no concurrency cap. */
  slots: number | null;
}

/** The last attempts that can count as failures; expired and canceled never ran, or were stopped on purpose. */
export const FAILED_STATUSES: readonly ExecutionStatus[] = ['failed', 'timed_out', 'lost'];

/** Doubling per attempt, so a flapping target is not hammered; capped so a retry still happens within the hour. */
const MAX_RETRY_DELAY_SECONDS = 3600;

/** Wait before the attempt after `failedAttempt`: backoffSeconds, then ×2 for each further attempt. */
export function retryDelaySeconds(backoffSeconds: number, failedAttempt: number): number {
  return Math.min(backoffSeconds * 2 ** (failedAttempt - 1), MAX_RETRY_DELAY_SECONDS);
}

/**
 * `failed` and `timed_out` are retried; `lost` only with retryLost, as the lost agent may still be
 * running the command (DESIGN.md §4). `retries.max` counts retries: max 2 means up to 3 attempts.
 */
export function isRetried(policy: RunPolicy, attempt: FailedAttempt): boolean {
  if (attempt.status === 'lost' && !policy.retryLost) return false;
  return attempt.attempt <= (policy.retries?.max ?? 0);
}

export function planRunStep(policy: RunPolicy, state: RunState): RunStep {
  const retried = state.failed.filter((attempt) => isRetried(policy, attempt));
  // A target counts as failed only when no retry is coming: its failure is final.
  const failures = state.failed.length - retried.length;
  if (policy.maxFailures !== null && failures >= policy.maxFailures) {
    return { retries: [], stop: { failures, maxFailures: policy.maxFailures }, slots: 0 };
  }
  const backoffSeconds = policy.retries?.backoffSeconds ?? 0;
  return {
    retries: retried.map((failed) => ({
      agentId: failed.agentId,
      attempt: failed.attempt + 1,
      notBefore: new Date(failed.finishedAt.getTime() + retryDelaySeconds(backoffSeconds, failed.attempt) * 1000),
    })),
    stop: null,
    slots: policy.concurrency === null ? null : Math.max(0, policy.concurrency - state.inFlight),
  };
}
