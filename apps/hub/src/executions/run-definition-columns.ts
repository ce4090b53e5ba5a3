import { Property } from '@mikro-orm/core';
import type { ExecutionSpec } from '@outpost/protocol';
import type { RunTarget } from './run-request.schema';
import type { RetryPolicy, RunDefinition, StoredEnvValue } from './run.entity';

/**
 * The columns of a run definition, declared once for the two tables that hold one: a saved job,
 * and each run, which keeps its own copy. Not an entity itself: Job and Run inherit its mapping.
 */
export abstract class RunDefinitionColumns implements RunDefinition {
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

  /** As asked for; for a run, the agents it resolved to are its executions. */
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
}
