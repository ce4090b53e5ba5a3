import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

@Entity({ tableName: 'enrollment_tokens' })
export class EnrollmentToken {
  [OptionalProps]?: 'labels' | 'maxUses' | 'uses' | 'revokedAt' | 'createdBy' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /** SHA-256 of the token: the token itself is shown once, at creation. */
  @Property({ type: 'text', unique: true, hidden: true })
  tokenHash!: string;

  @Property({ type: 'json' })
  labels: Record<string, string> = {};

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'integer', nullable: true })
  maxUses: number | null = null;

  @Property({ type: 'integer' })
  uses: number = 0;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  createdBy: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
