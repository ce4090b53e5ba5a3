import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

/** One login: the `sid` its access tokens carry, and the family its refresh tokens belong to. */
@Entity({ tableName: 'user_sessions' })
export class UserSession {
  [OptionalProps]?: 'createdAt' | 'revokedAt' | 'revokedReason' | 'clientAddress' | 'userAgent';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  /** The refresh tokens' lifetime: rotating them does not extend it. */
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  revokedReason: string | null = null;

  @Property({ type: 'text', nullable: true })
  clientAddress: string | null = null;

  @Property({ type: 'text', nullable: true })
  userAgent: string | null = null;
}
