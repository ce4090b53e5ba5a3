import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** One chunk of output, stored once per (execution, seq) however often the agent resends it. */
@Entity({ tableName: 'execution_output' })
export class ExecutionOutputChunk {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  executionId!: string;

  @PrimaryKey({ type: 'integer' })
  seq!: number;

  @Property({ type: 'text' })
  stream!: 'stdout' | 'stderr';

  /** Byte offset of this chunk within its stream. */
  @Property({ type: new BigIntType('number') })
  offset!: number;

  @Property({ type: 'blob' })
  data!: Buffer;

  /** When the agent cut the chunk (protocol 1.2), else when the hub stored it. */
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
