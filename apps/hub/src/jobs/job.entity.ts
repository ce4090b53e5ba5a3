import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { ExecutionSpec } from '@outpost/protocol';
import type { RunTarget } from '../executions/run-request.schema';
import type { RetryPolicy, RunDefinition, StoredEnvValue } from '../executions/run.entity';

/** A saved definition: what to run, where and how. Each run of it keeps its own copy. */
@Entity({ tableName: 'jobs' })
export class Job implements RunDefinition {
  [OptionalProps]?:
    | 'description'
    | 'env'
    | 'cwd'
    | 'timeoutSeconds'
    | 'deliveryTimeoutSeconds'
    | 'concurrency'
    | 'maxFailures'
    | 'retries'
    | 'retryLost'
    | 'enabled'
    | 'createdBy'
    | 'createdAt'
    | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique()
  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

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

  @Property({ type: 'json' })
  target!: RunTarget;

  @Property({ type: 'integer', nullable: true })
  concurrency: number | null = null;

  @Property({ type: 'integer', nullable: true })
  maxFailures: number | null = null;

  @Property({ type: 'json', nullable: true })
  retries: RetryPolicy | null = null;

  @Property({ type: 'boolean' })
  retryLost: boolean = false;

  /** A disabled job keeps its definition but cannot be run. */
  @Property({ type: 'boolean' })
  enabled: boolean = true;

  @Property({ type: 'uuid', nullable: true })
  createdBy: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
