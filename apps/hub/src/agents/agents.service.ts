import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, type QueryResult } from '@mikro-orm/postgresql';
import type { AgentFacts, AgentHandshake } from '@outpost/protocol';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { AppError } from '../common/errors/app-error';
import { hashesEqual, newSecret, sha256Hex } from '../common/crypto/secrets';
import type { Page } from '../common/validation/common-schemas';
import { EnrollmentTokensService } from '../enrollment/enrollment-tokens.service';
import { batchLoader, CONNECT_GATHER } from '../common/batching/batch-loader';
import { executeBound } from '../common/database/bound-query';
import { idLockedInOrder, lockedInOrder } from '../common/database/locked-in-order';
import { Agent, type AgentHealthSummary, type AgentStatus } from './agent.entity';
import { AgentConnections } from './agent-connections';
import { containsPattern, fetchPage } from '../common/database/list-query';

/** An online agent not heard from within the offline bound (bound as the statement's parameter). */
const SILENT = `status = 'online' and (last_seen_at is null or last_seen_at < now() - make_interval(secs => ?))`;

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
  health: AgentHealthSummary | null;
}

export interface AgentDetailView extends AgentView {
  facts: AgentFacts | null;
  capabilities: string[];
}

export interface EnrollRequest {
  token: string;
  name?: string | undefined;
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
  /** Re-enroll this host into its existing record instead of creating another (`enroll --replace`). */
  replace?: boolean | undefined;
  previous?: { agentId: string; credential: string } | undefined;
}

type StoredCredentials = Pick<Agent, 'credentialHash' | 'pendingCredentialHash'>;

interface ConnectRecord {
  id: string;
  connectionId: string;
  version: string;
  capabilities: string[];
  hostname: string | null;
  os: string | null;
  arch: string | null;
}

export interface AgentIdentity {
  agentId: string;
  credential: string;
  name: string;
}

export const AGENT_SORT_FIELDS = ['name', 'hostname', 'status', 'os', 'lastSeenAt', 'enrolledAt'] as const;

export interface AgentListQuery {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  sort: (typeof AGENT_SORT_FIELDS)[number];
  status?: AgentStatus | undefined;
  labels?: Record<string, string> | undefined;
  os?: string | undefined;
  search?: string | undefined;
}

export interface AgentPatch {
  name?: string | undefined;
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
      const existing = request.replace || request.previous ? await this.replaceable(em, request) : null;
      if (existing) {
        // Same record, new credential: the old one stops working, history stays attached.
        const credential = newSecret('opa');
        existing.credentialHash = sha256Hex(credential);
        existing.pendingCredentialHash = null;
        existing.name = request.name ?? existing.name;
        existing.hostname = request.hostname;
        existing.os = request.os;
        existing.arch = request.arch;
        existing.version = request.agentVersion;
        existing.labels = { ...existing.labels, ...token.labels };
        existing.enrollmentTokenId = token.id;
        await em.flush();
        this.connections.disconnect(existing.id);
        return { agentId: existing.id, credential, name: existing.name };
      }
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

  /**
   * The record a re-enrollment takes over: the one the agent proves it held (its previous
   * credential), else, when asked to replace, the only live agent with the same hostname.
   */
  private async replaceable(em: EntityManager, request: EnrollRequest): Promise<Agent | null> {
    if (request.previous) {
      const previous = await em.findOne(Agent, { id: request.previous.agentId, revokedAt: null });
      if (previous && this.credentialMatches(previous, request.previous.credential)) return previous;
    }
    if (!request.replace) return null;
    const sameHost = await em.find(Agent, { hostname: request.hostname, revokedAt: null }, { limit: 2 });
    return sameHost.length === 1 ? sameHost[0]! : null;
  }

  private credentialMatches(agent: StoredCredentials, credential: string): boolean {
    const hash = sha256Hex(credential);
    return hashesEqual(agent.credentialHash, hash) || (agent.pendingCredentialHash !== null && hashesEqual(agent.pendingCredentialHash, hash));
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
  /** The agent's id when the handshake's credential is its current one or, during a rotation, the pending one. */
  async authenticate(handshake: AgentHandshake): Promise<string | null> {
    const stored = await this.credentialsLoader.load(handshake.agentId);
    // A rotation in flight accepts both: the agent may reconnect before or after it stored the new one.
    return stored && this.credentialMatches(stored, handshake.credential) ? handshake.agentId : null;
  }

  /** Marks the agent online through this connection; false when it was revoked meanwhile. */
  async markConnected(agentId: string, connectionId: string, handshake: AgentHandshake): Promise<boolean> {
    const facts = handshake.facts;
    return this.connectLoader.load({
      id: agentId,
      connectionId,
      version: handshake.agentVersion,
      capabilities: handshake.capabilities,
      hostname: facts?.hostname ?? null,
      os: facts?.os ?? null,
      arch: facts?.arch ?? null,
    });
  }

  private readonly credentialsLoader = batchLoader<string, StoredCredentials | null>(async (ids) => {
    const rows = await executeBound<{ id: string; credential_hash: string; pending_credential_hash: string | null }>(
      this.em.fork(),
      `select id, credential_hash, pending_credential_hash from agents
        where revoked_at is null and id in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
      [JSON.stringify(ids)],
    );
    const byId = new Map(rows.map((row) => [row.id, { credentialHash: row.credential_hash, pendingCredentialHash: row.pending_credential_hash }]));
    return ids.map((id) => byId.get(id) ?? null);
  }, CONNECT_GATHER);

  /** One guarded update for a burst of connects; the facts of the handshake win over older ones. */
  private readonly connectLoader = batchLoader<ConnectRecord, boolean>(async (records) => {
    const rows = await executeBound<{ id: string; connection_id: string }>(
      this.em.fork(),
      `with c as (
         select * from jsonb_to_recordset(?::jsonb)
             as c(id uuid, "connectionId" text, version text, capabilities jsonb, hostname text, os text, arch text)),
       ${lockedInOrder('agents', 'c', 't.id = s.id')}
       update agents a set status = 'online', connection_id = c."connectionId", last_seen_at = now(),
              version = c.version, capabilities = c.capabilities,
              hostname = coalesce(c.hostname, a.hostname), os = coalesce(c.os, a.os), arch = coalesce(c.arch, a.arch)
         from c, locked l
        where a.id = c.id and a.id = l.id and a.revoked_at is null
        returning a.id, a.connection_id`,
      [JSON.stringify(records)],
    );
    const updated = new Set(rows.map((row) => `${row.id} ${row.connection_id}`));
    return records.map((record) => updated.has(`${record.id} ${record.connectionId}`));
  }, CONNECT_GATHER);

  /** Only the connection that set `online` may set `offline`: a late disconnect of an old socket changes nothing. */
  async markDisconnected(agentId: string, connectionId: string): Promise<void> {
    await this.disconnectLoader.load({ id: agentId, connectionId });
  }

  private readonly disconnectLoader = batchLoader<{ id: string; connectionId: string }, void>(async (records) => {
    await executeBound(
      this.em.fork(),
      `with c as (select * from jsonb_to_recordset(?::jsonb) as c(id uuid, "connectionId" text)),
       ${lockedInOrder('agents', 'c', 't.id = s.id')}
       update agents a set status = 'offline', connection_id = null, last_seen_at = now()
         from c, locked l
        where a.id = c.id and a.id = l.id and a.connection_id = c."connectionId"`,
      [JSON.stringify(records)],
    );
    return records.map(() => undefined);
  });

  /**
   * Heartbeats are written in one statement per flush, not one per agent. The batch travels as
   * one JSON document: the query builder would expand a bound array into a list, not an array.
   */
  async recordHeartbeats(seen: { agentId: string; connectionId: string }[]): Promise<void> {
    if (seen.length === 0) return;
    await executeBound(
      this.em.fork(),
      `with h as (select * from jsonb_to_recordset(?::jsonb) as h("agentId" uuid, "connectionId" text)),
       ${lockedInOrder('agents', 'h', 't.id = s."agentId"')}
       update agents a set last_seen_at = now(), status = 'online'
         from h, locked l
        where a.id = h."agentId" and a.id = l.id and a.connection_id = h."connectionId" and a.revoked_at is null`,
      [JSON.stringify(seen)],
    );
  }

  /** Agents silent for longer than the offline bound are offline, whichever hub last held them. */
  async markSilentAgentsOffline(): Promise<number> {
    const result = await this.em.fork().execute<QueryResult>(
      `update agents set status = 'offline'
        where ${idLockedInOrder('agents', SILENT)} and ${SILENT}`,
      [this.config.agentOfflineAfterSeconds, this.config.agentOfflineAfterSeconds],
      'run',
    );
    return result.affectedRows;
  }

  /** Every agent sends its facts on each connect: a fleet reconnecting has them compared in batches. */
  async recordFacts(agentId: string, facts: AgentFacts): Promise<void> {
    await this.factsLoader.load({ id: agentId, facts });
  }

  private readonly factsLoader = batchLoader<{ id: string; facts: AgentFacts }, void>(async (records) => {
    await executeBound(
      this.em.fork(),
      // Facts rarely change: a reconnect that brings the same ones locks and writes nothing.
      `with c as (select * from jsonb_to_recordset(?::jsonb) as c(id uuid, facts jsonb)),
       ${lockedInOrder('agents', 'c', 't.id = s.id and t.facts is distinct from s.facts')}
       update agents a set facts = c.facts, hostname = c.facts->>'hostname', os = c.facts->>'os', arch = c.facts->>'arch'
         from c, locked l
        where a.id = c.id and a.id = l.id and a.revoked_at is null`,
      // An agent twice in one batch (a quick reconnect) keeps the facts it sent last.
      [JSON.stringify([...new Map(records.map((record) => [record.id, record])).values()])],
    );
    return records.map(() => undefined);
  }, CONNECT_GATHER);

  async list(query: AgentListQuery): Promise<Page<AgentView>> {
    const em = this.em.fork();
    const qb = em.createQueryBuilder(Agent, 'a').where({ revokedAt: null });
    if (query.status) qb.andWhere({ status: query.status });
    if (query.os) qb.andWhere({ os: query.os });
    if (query.labels && Object.keys(query.labels).length > 0) qb.andWhere('a.labels @> ?::jsonb', [JSON.stringify(query.labels)]);
    if (query.search) {
      const pattern = containsPattern(query.search);
      qb.andWhere({ $or: [{ name: { $ilike: pattern } }, { hostname: { $ilike: pattern } }] });
    }
    return fetchPage(qb, query, toView);
  }

  async get(id: string): Promise<AgentDetailView> {
    const agent = await this.em.fork().findOne(Agent, { id, revokedAt: null });
    if (!agent) throw AppError.notFound('Agent', id);
    return { ...toView(agent), facts: agent.facts, capabilities: agent.capabilities };
  }

  async update(id: string, patch: AgentPatch): Promise<AgentDetailView> {
    const em = this.em.fork();
    const agent = await em.findOne(Agent, { id, revokedAt: null });
    if (!agent) throw AppError.notFound('Agent', id);
    if (patch.name !== undefined) agent.name = patch.name;
    if (patch.labels !== undefined) agent.labels = patch.labels;
    await em.flush();
    return { ...toView(agent), facts: agent.facts, capabilities: agent.capabilities };
  }

  /** Live agents with their ids and statuses, for a fleet-wide check. */
  async liveAgents(): Promise<{ id: string; status: AgentStatus }[]> {
    return this.em.fork().find(Agent, { revokedAt: null }, { fields: ['id', 'status'], orderBy: { enrolledAt: 'asc' } });
  }

  async stats(): Promise<{ agents: { total: number; byStatus: Record<AgentStatus, number>; byOs: Record<string, number> } }> {
    const rows = await this.em.fork().execute<{ status: AgentStatus; os: string; count: string }[]>(
      `select status, os, count(*) as count from agents where revoked_at is null group by status, os`,
    );
    const byStatus: Record<AgentStatus, number> = { online: 0, offline: 0 };
    const byOs: Record<string, number> = {};
    let total = 0;
    for (const row of rows) {
      const n = Number(row.count);
      total += n;
      byStatus[row.status] += n;
      byOs[row.os] = (byOs[row.os] ?? 0) + n;
    }
    return { agents: { total, byStatus, byOs } };
  }

  /** Rotation step 1: the new credential is accepted alongside the old one. */
  async beginRotation(id: string): Promise<string> {
    const credential = newSecret('opa');
    const updated = await this.em.fork().nativeUpdate(Agent, { id, revokedAt: null }, { pendingCredentialHash: sha256Hex(credential) });
    if (updated === 0) throw AppError.notFound('Agent', id);
    return credential;
  }

  /** Rotation step 2: the agent stored it, so only the new one is accepted from now on. */
  async completeRotation(id: string, credential: string): Promise<boolean> {
    const hash = sha256Hex(credential);
    const updated = await this.em.fork().nativeUpdate(
      Agent,
      { id, revokedAt: null, pendingCredentialHash: hash },
      { credentialHash: hash, pendingCredentialHash: null },
    );
    return updated === 1;
  }

  async abandonRotation(id: string, credential: string): Promise<void> {
    await this.em.fork().nativeUpdate(Agent, { id, pendingCredentialHash: sha256Hex(credential) }, { pendingCredentialHash: null });
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
    health: agent.lastHealth,
  };
}
