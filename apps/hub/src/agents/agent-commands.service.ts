import { Injectable, Logger } from '@nestjs/common';
import { ackSchema, type CredentialRotate, HubToAgentEvent, parsePayload, type Ping } from '@outpost/protocol';
import { performance } from 'node:perf_hooks';
import { AppError } from '../common/errors/app-error';
import { AgentConnections } from './agent-connections';
import { AgentsService } from './agents.service';

/** How long a connected agent has to answer a ping before it counts as unresponsive. */
const PING_TIMEOUT_MS = 5_000;
/** Writing the config file on the host is quick; this bounds a stuck agent. */
const ROTATE_TIMEOUT_MS = 15_000;
/** Pings in flight at once during a fleet check. */
const CHECK_CONCURRENCY = 200;

export interface CheckItem {
  id: string;
  status: 'online' | 'offline' | 'unresponsive';
  roundTripMs: number | null;
}

/** Commands that travel over an agent's live socket and wait for its answer. */
@Injectable()
export class AgentCommandsService {
  private readonly logger = new Logger(AgentCommandsService.name);

  constructor(
    private readonly agents: AgentsService,
    private readonly connections: AgentConnections,
  ) {}

  /** Round trip through the live socket, in milliseconds. */
  async ping(agentId: string): Promise<{ roundTripMs: number }> {
    await this.agents.get(agentId);
    const roundTripMs = await this.measure(agentId);
    if (roundTripMs === null) throw new AppError('AGENT_OFFLINE', `Agent ${agentId} is not connected or did not answer within ${PING_TIMEOUT_MS} ms`);
    return { roundTripMs };
  }

  /** Pings every live agent; offline ones are listed without a ping. */
  async check(): Promise<{ items: CheckItem[]; summary: { total: number; online: number; offline: number } }> {
    const agents = await this.agents.liveAgents();
    const items: CheckItem[] = agents.map((a) => ({ id: a.id, status: 'offline', roundTripMs: null }));
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++]!;
        if (!this.connections.get(item.id)) continue;
        item.roundTripMs = await this.measure(item.id);
        item.status = item.roundTripMs === null ? 'unresponsive' : 'online';
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, items.length) }, worker));
    const online = items.filter((i) => i.status === 'online').length;
    return { items, summary: { total: items.length, online, offline: items.length - online } };
  }

  /**
   * Hands the live agent a new credential without downtime: the hub accepts both while the agent
   * stores it, and only the new one once the agent has acked.
   */
  async rotateCredential(agentId: string): Promise<{ rotatedAt: string }> {
    await this.agents.get(agentId);
    const socket = this.connections.get(agentId);
    if (!socket) throw new AppError('AGENT_OFFLINE', `Agent ${agentId} is not connected: a credential can only be handed to a live agent`);
    const credential = await this.agents.beginRotation(agentId);
    const payload: CredentialRotate = { credential };
    const ack = await socket
      .timeout(ROTATE_TIMEOUT_MS)
      .emitWithAck(HubToAgentEvent.CredentialRotate, payload)
      .catch(() => null);
    const parsed = parsePayload(ackSchema, ack);
    if (!parsed.ok || !parsed.value.ok) {
      await this.agents.abandonRotation(agentId, credential);
      const why = parsed.ok && !parsed.value.ok ? parsed.value.error.message : 'no answer';
      this.logger.warn({ agentId, why }, 'credential rotation failed');
      throw new AppError('AGENT_OFFLINE', `Agent ${agentId} did not store the new credential (${why}); the old one stays valid`);
    }
    if (!(await this.agents.completeRotation(agentId, credential))) {
      throw new AppError('CONFLICT', `Agent ${agentId} was revoked or re-enrolled during the rotation`);
    }
    this.logger.log({ agentId }, 'agent credential rotated');
    return { rotatedAt: new Date().toISOString() };
  }

  private async measure(agentId: string): Promise<number | null> {
    const socket = this.connections.get(agentId);
    if (!socket) return null;
    const payload: Ping = { sentAt: new Date().toISOString() };
    const started = performance.now();
    const answered = await socket
      .timeout(PING_TIMEOUT_MS)
      .emitWithAck(HubToAgentEvent.Ping, payload)
      .then(() => true, () => false);
    return answered ? Math.round((performance.now() - started) * 100) / 100 : null;
  }
}
