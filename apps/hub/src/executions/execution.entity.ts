import { BigIntType, Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { ExecutionStatus } from './execution-state';

@Entity({ tableName: 'executions' })
@Index({ properties: ['agentId', 'status'] })
export class Execution {
  [OptionalProps]?:
    | 'attempt'
    | 'status'
    | 'reason'
    | 'exitCode'
    | 'signal'
    | 'pid'
    | 'outputChunks'
    | 'outputTruncated'
    | 'outputDroppedBytes'
    | 'createdAt'
    | 'dispatchedAt'
    | 'startedAt'
    | 'finishedAt'
    | 'cancelRequestedAt'
    | 'cancelRequestedBy';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Index()
  @Property({ type: 'uuid' })
  runId!: string;

  @Property({ type: 'uuid' })
  agentId!: string;

  @Property({ type: 'integer' })
  attempt: number = 1;

  @Property({ type: 'text' })
  status: ExecutionStatus = 'queued';

  /** Why it ended the way it did: exit code, timeout, cancel, spawn error, agent lost. */
  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @Property({ type: 'integer', nullable: true })
  exitCode: number | null = null;

  @Property({ type: 'text', nullable: true })
  signal: string | null = null;

  @Property({ type: 'integer', nullable: true })
  pid: number | null = null;

  /** How many output chunks the agent says it sent; known once the execution finished. */
  @Property({ type: 'integer', nullable: true })
  outputChunks: number | null = null;

  /** The agent's output cap dropped bytes between the head and the tail it kept. */
  @Property({ type: 'boolean' })
  outputTruncated: boolean = false;

  /** How many: the stored output has a marker in their place. A number: a cap is far below 2^53. */
  @Property({ type: new BigIntType('number') })
  outputDroppedBytes: number = 0;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  /** A queued execution not delivered by then is `expired`. */
  @Property({ type: 'timestamptz' })
  deliverBy!: Date;

  /** Set by a cancel of an execution the agent holds: resent to the agent until it reports the end. */
  @Property({ type: 'timestamptz', nullable: true })
  cancelRequestedAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  cancelRequestedBy: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;
}
