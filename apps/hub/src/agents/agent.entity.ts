import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { AgentFacts } from '@outpost/protocol';

/** The latest health sample, as the agents list shows it. */
export interface AgentHealthSummary {
  cpuPercent: number;
  memUsedPercent: number;
  diskUsedPercent: number | null;
  load1: number;
  uptimeSeconds: number;
  sampledAt: string;
}

export type AgentStatus = 'online' | 'offline';

@Entity({ tableName: 'agents' })
export class Agent {
  [OptionalProps]?:
    | 'labels'
    | 'status'
    | 'connectionId'
    | 'lastSeenAt'
    | 'enrollmentTokenId'
    | 'enrolledAt'
    | 'revokedAt'
    | 'facts'
    | 'capabilities'
    | 'pendingCredentialHash'
    | 'lastHealth';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  hostname!: string;

  @Property({ type: 'text' })
  os!: string;

  @Property({ type: 'text' })
  arch!: string;

  @Property({ type: 'text' })
  version!: string;

  @Property({ type: 'json' })
  labels: Record<string, string> = {};

  /** SHA-256 of the 256-bit credential: fast to check for thousands of reconnects, useless if stolen. */
  @Property({ type: 'text', hidden: true })
  credentialHash!: string;

  @Property({ type: 'text' })
  status: AgentStatus = 'offline';

  /** During a rotation: the new credential's hash, accepted too until the agent confirms it stored it. */
  @Property({ type: 'text', nullable: true, hidden: true })
  pendingCredentialHash: string | null = null;

  @Property({ type: 'json', nullable: true })
  facts: AgentFacts | null = null;

  /** What the connected agent announced it supports (protocol capabilities). */
  @Property({ type: 'json' })
  capabilities: string[] = [];

  @Property({ type: 'json', nullable: true })
  lastHealth: AgentHealthSummary | null = null;

  /** Which live connection set `online`, so a late disconnect of an old socket cannot mark a reconnected agent offline. */
  @Property({ type: 'text', nullable: true, hidden: true })
  connectionId: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  enrollmentTokenId: string | null = null;

  @Property({ type: 'timestamptz' })
  enrolledAt: Date = new Date();

  /** Revoked agents keep their row (their executions reference it) but are gone from the API. */
  @Index()
  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;
}
