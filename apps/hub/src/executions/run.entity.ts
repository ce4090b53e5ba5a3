import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { ExecutionSpec } from '@outpost/protocol';
import type { RunTarget } from './run-request.schema';

export type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled';
export type RunTrigger = 'manual' | 'schedule' | 'rerun';

/**
 * An env value as stored: a plain value, or a secret sealed with the hub's data key (SecretBox),
 * opened only to dispatch it to an agent and never returned by the API.
 */
export type StoredEnvValue = { value: string; secret: false } | { sealed: string; secret: true };

export interface RetryPolicy {
  max: number;
  backoffSeconds: number;
}

/** What to run, where and how: a saved job holds one, and every run keeps its own copy. */
export interface RunDefinition {
  spec: ExecutionSpec;
  env: Record<string, StoredEnvValue>;
  cwd: string | null;
  timeoutSeconds: number | null;
  deliveryTimeoutSeconds: number | null;
  target: RunTarget;
  concurrency: number | null;
  maxFailures: number | null;
  retries: RetryPolicy | null;
  retryLost: boolean;
}

@Entity({ tableName: 'runs' })
export class Run implements RunDefinition {
  [OptionalProps]?:
    | 'status'
    | 'trigger'
    | 'env'
    | 'cwd'
    | 'timeoutSeconds'
    | 'deliveryTimeoutSeconds'
    | 'requestedBy'
    | 'canceledBy'
    | 'createdAt'
    | 'finishedAt'
    | 'jobId'
    | 'rerunOf'
    | 'scheduledAt'
    | 'reason'
    | 'concurrency'
    | 'maxFailures'
    | 'retries'
    | 'retryLost';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Index()
  @Property({ type: 'text' })
  status: RunStatus = 'pending';

  @Property({ type: 'text' })
  trigger: RunTrigger = 'manual';

  @Property({ type: 'json' })
  spec!: ExecutionSpec;

  @Property({ type: 'json', hidden: true })
  env: Record<string, StoredEnvValue> = {};

  @Property({ type: 'text', nullable: true })
  cwd: string | null = null;

  @Property({ type: 'integer', nullable: true })
  timeoutSeconds: number | null = null;

  @Property({ type: 'integer', nullable: true })
  deliveryTimeoutSeconds: number | null = null;

  /** As asked for; the agents it resolved to are the run's executions. */
  @Property({ type: 'json' })
  target!: RunTarget;

  /** At most this many executions queued, dispatched or running at once; the others wait `pending`. */
  @Property({ type: 'integer', nullable: true })
  concurrency: number | null = null;

  /** Once this many targets failed for good, executions not yet dispatched end `canceled`. */
  @Property({ type: 'integer', nullable: true })
  maxFailures: number | null = null;

  @Property({ type: 'json', nullable: true })
  retries: RetryPolicy | null = null;

  /** Retry `lost` attempts too: off by default, as a lost agent may still be running the command. */
  @Property({ type: 'boolean' })
  retryLost: boolean = false;

  @Index()
  @Property({ type: 'uuid', nullable: true })
  jobId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  rerunOf: string | null = null;

  /** The occurrence a scheduled run stands for; unique per job. */
  @Property({ type: 'timestamptz', nullable: true })
  scheduledAt: Date | null = null;

  /** Why a run ended without executions (`NO_TARGETS: …`). */
  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  requestedBy: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  canceledBy: string | null = null;

  @Index()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;
}
