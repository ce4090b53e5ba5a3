import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { ExecutionSpec } from '@outpost/protocol';
import { RunDefinitionColumns } from './run-definition-columns';
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
export class Run extends RunDefinitionColumns {
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
