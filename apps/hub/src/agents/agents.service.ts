import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, type QueryResult } from '@mikro-orm/postgresql';
import type { AgentHandshake } from '@outpost/protocol';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { AppError } from '../common/errors/app-error';
import { hashesEqual, newSecret, sha256Hex } from '../common/crypto/secrets';
import type { Page } from '../common/validation/common-schemas';
import { EnrollmentTokensService } from '../enrollment/enrollment-tokens.service';
import { Agent, type AgentStatus } from './agent.entity';
import { AgentConnections } from './agent-connections';

export interface AgentView {
  id: string;
  name: string;
  hostname: string;
  os: string;
  arch: string;
  version: string;
  status: AgentStatus;
  labels: Record<string, string>;
  lastSeenAt: string | null;
  enrolledAt: string;
}

export interface EnrollRequest {
  token: string;
  name?: string | undefined;
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
}

export interface AgentIdentity {
  agentId: string;
  credential: string;
  name: string;
}

export interface AgentListQuery {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  status?: AgentStatus | undefined;
  labels?: Record<string, string> | undefined;
}

@Injectable()
export class AgentsService {
  constructor(
    private readonly em: EntityManager,
    private readonly enrollmentTokens: EnrollmentTokensService,
    private readonly connections: AgentConnections,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  /** Exchanges an enrollment token for an identity: token use and agent row commit together. */
  async enroll(request: EnrollRequest): Promise<AgentIdentity> {
    return this.em.fork().transactional(async (em) => {
      const token = await this.enrollmentTokens.consume(em, request.token);
      return this.createIdentity(em, {
        name: request.name ?? request.hostname,
        hostname: request.hostname,
        os: request.os,
        arch: request.arch,
        version: request.agentVersion,
        labels: token.labels,
        enrollmentTokenId: token.id,
      });
    });
  }

  /** An identity made by the hub itself, for the local agent `npm start` runs. */
  async createLocalIdentity(facts: { name: string; hostname: string; os: string; arch: string }): Promise<AgentIdentity> {
    return this.em.fork().transactional((em) =>
      this.createIdentity(em, { ...facts, version: 'unknown', labels: { local: 'true' }, enrollmentTokenId: null }),
    );
  }

  private async createIdentity(
    em: EntityManager,
    fields: Pick<Agent, 'name' | 'hostname' | 'os' | 'arch' | 'version' | 'labels' | 'enrollmentTokenId'>,
  ): Promise<AgentIdentity> {
    const credential = newSecret('opa');
    const agent = em.create(Agent, { ...fields, credentialHash: sha256Hex(credential) });
    await em.persistAndFlush(agent);
    return { agentId: agent.id, credential, name: agent.name };
  }

  /** Checks a handshake's credential; null when unknown, revoked or wrong (the caller does not learn which). */
  async authenticate(handshake: AgentHandshake): Promise<Agent | null> {
    const agent = await this.em.fork().findOne(Agent, { id: handshake.agentId, revokedAt: null });
    if (!agent || !hashesEqual(agent.credentialHash, sha256Hex(handshake.credential))) return null;
    return agent;
  }

  /** Marks the agent online through this connection; false when it was revoked meanwhile. */
  async markConnected(agentId: string, connectionId: string, handshake: AgentHandshake): Promise<boolean> {
    const facts = handshake.facts;
    const updated = await this.em.fork().nativeUpdate(
      Agent,
      { id: agentId, revokedAt: null },
      {
        status: 'online',
        connectionId,
        lastSeenAt: new Date(),
        version: handshake.agentVersion,
        ...(facts ? { hostname: facts.hostname, os: facts.os, arch: facts.arch } : {}),
      },
    );
    return updated === 1;
  }

  /** Only the connection that set `online` may set `offline`: a late disconnect of an old socket changes nothing. */
  async markDisconnected(agentId: string, connectionId: string): Promise<void> {
    await this.em.fork().nativeUpdate(Agent, { id: agentId, connectionId }, { status: 'offline', connectionId: null, lastSeenAt: new Date() });
  }

  /** Heartbeats are written in one statement per flush, not one per agent. */
  async recordHeartbeats(seen: { agentId: string; connectionId: string }[]): Promise<void> {
    if (seen.length === 0) return;
    await this.em.fork().execute(
      `update agents a set last_seen_at = now(), status = 'online'
         from unnest(?::uuid[], ?::text[]) as h(id, connection_id)
        where a.id = h.id and a.connection_id = h.connection_id and a.revoked_at is null`,
      [seen.map((s) => s.agentId), seen.map((s) => s.connectionId)],
    );
  }

  /** Agents silent for longer than the offline bound are offline, whichever hub last held them. */
  async markSilentAgentsOffline(): Promise<number> {
    const result = await this.em.fork().execute<QueryResult>(
      `update agents set status = 'offline'
        where status = 'online' and (last_seen_at is null or last_seen_at < now() - make_interval(secs => ?))`,
      [this.config.agentOfflineAfterSeconds],
      'run',
    );
    return result.affectedRows;
  }

  async list(query: AgentListQuery): Promise<Page<AgentView>> {
    const em = this.em.fork();
    const qb = em.createQueryBuilder(Agent, 'a').where({ revokedAt: null });
    if (query.status) qb.andWhere({ status: query.status });
    if (query.labels && Object.keys(query.labels).length > 0) qb.andWhere('a.labels @> ?::jsonb', [JSON.stringify(query.labels)]);
    const total = await qb.clone().getCount();
    const rows = await qb.orderBy({ enrolledAt: query.order, id: query.order }).limit(query.limit).offset(query.offset).getResultList();
    return { items: rows.map(toView), total, limit: query.limit, offset: query.offset };
  }

  async get(id: string): Promise<AgentView> {
    const agent = await this.em.fork().findOne(Agent, { id, revokedAt: null });
    if (!agent) throw AppError.notFound('Agent', id);
    return toView(agent);
  }

  /** Ids that exist and are not revoked, out of `ids`. */
  async existingIds(ids: string[]): Promise<Set<string>> {
    const rows = await this.em.fork().find(Agent, { id: { $in: ids }, revokedAt: null }, { fields: ['id'] });
    return new Set(rows.map((r) => r.id));
  }

  /** Revokes the credential and cuts the live connection at once. */
  async revoke(id: string): Promise<void> {
    const updated = await this.em.fork().nativeUpdate(
      Agent,
      { id, revokedAt: null },
      { revokedAt: new Date(), status: 'offline', connectionId: null },
    );
    if (updated === 0) throw AppError.notFound('Agent', id);
    this.connections.disconnect(id);
  }
}

function toView(agent: Agent): AgentView {
  return {
    id: agent.id,
    name: agent.name,
    hostname: agent.hostname,
    os: agent.os,
    arch: agent.arch,
    version: agent.version,
    status: agent.status,
    labels: agent.labels,
    lastSeenAt: agent.lastSeenAt?.toISOString() ?? null,
    enrolledAt: agent.enrolledAt.toISOString(),
  };
}
