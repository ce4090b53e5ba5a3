import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { ExecutionSpec } from '@outpost/protocol';

export type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled';
export type RunTrigger = 'manual' | 'schedule' | 'rerun';

/** An env value as stored: secret values are never returned by the API. */
export interface StoredEnvValue {
  value: string;
  secret: boolean;
}

@Entity({ tableName: 'runs' })
export class Run {
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
    | 'finishedAt';

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

  @Property({ type: 'json' })
  target!: { agentIds: string[] };

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
