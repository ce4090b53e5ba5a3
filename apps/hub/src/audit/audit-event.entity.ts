import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const AUDIT_ACTOR_TYPES = ['user', 'api_token', 'agent', 'anonymous'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/** `aborted`: the client closed the connection before the answer; the action may or may not have happened. */
export const AUDIT_OUTCOMES = ['succeeded', 'failed', 'aborted'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** One audited request. Written once, never changed (a trigger refuses UPDATE); retention deletes old rows. */
@Entity({ tableName: 'audit_events' })
export class AuditEvent {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'timestamptz' })
  at!: Date;

  @Property({ type: 'text' })
  actorType!: AuditActorType;

  /** User id, API token id or agent id; null when the caller is unknown (a refused login, a failed enrollment). */
  @Property({ type: 'text', nullable: true })
  actorId!: string | null;

  /** Username (for a login: the one attempted), or the enrolling agent's hostname. */
  @Property({ type: 'text', nullable: true })
  actorName!: string | null;

  @Property({ type: 'text' })
  action!: string;

  @Property({ type: 'text', nullable: true })
  targetType!: string | null;

  @Property({ type: 'text', nullable: true })
  targetId!: string | null;

  @Property({ type: 'text' })
  outcome!: AuditOutcome;

  /** The HTTP status answered; null when the client left before it. */
  @Property({ type: 'integer', nullable: true })
  status!: number | null;

  @Property({ type: 'text', nullable: true })
  clientAddress!: string | null;

  @Property({ type: 'text', nullable: true })
  userAgent!: string | null;

  @Property({ type: 'text' })
  requestId!: string;
}
