import { AGENT_NAMESPACE, AgentToHubEvent, HubToAgentEvent, PROTOCOL_VERSION, type Welcome } from '@outpost/protocol';
import { io, type Socket } from 'socket.io-client';
import type { TestHub } from '../../support/test-hub';

/** An enrolled identity, as `outpost-agent enroll` would store it. */
export interface AgentIdentity {
  agentId: string;
  credential: string;
}

/** Enrolls through the API with a fresh single-use enrollment token: a real identity, no agent process. */
export async function enrollIdentity(hub: TestHub, name: string): Promise<AgentIdentity> {
  const token = await hub.api('POST', '/api/v1/enrollment-tokens', { labels: {}, maxUses: 1 });
  if (token.status !== 201) throw new Error(`token creation failed: ${token.text}`);
  const enrolled = await hub.request('POST', '/api/v1/agents/enroll', enrollBody(token.body.token, name), null);
  if (enrolled.status !== 201) throw new Error(`enroll failed: ${enrolled.status} ${enrolled.text}`);
  return { agentId: enrolled.body.agentId, credential: enrolled.body.credential };
}

export function enrollBody(token: string, name: string) {
  return { token, name, hostname: name, os: 'linux', arch: 'x64', agentVersion: 'raw-test' };
}

export function handshakeAuth(identity: AgentIdentity) {
  return {
    agentId: identity.agentId,
    credential: identity.credential,
    protocolVersion: PROTOCOL_VERSION,
    agentVersion: 'raw-test',
    capabilities: [],
  };
}

const welcomes = new WeakMap<Socket, Welcome>();

/** The welcome the hub sent a raw agent's connection. */
export function welcomeOf(socket: Socket): Welcome | undefined {
  return welcomes.get(socket);
}

/**
 * A raw socket.io client speaking the agent protocol with a real identity: it authenticates like
 * the agent and sends whatever a test makes it send. Dispatches to it are acked and never run.
 */
export async function connectRawAgent(hub: TestHub, identity: AgentIdentity, extraAuth: Record<string, unknown> = {}): Promise<Socket> {
  const socket = io(`${hub.url}${AGENT_NAMESPACE}`, {
    forceNew: true,
    transports: ['websocket'],
    reconnection: false,
    auth: { ...handshakeAuth(identity), ...extraAuth },
  });
  socket.on(HubToAgentEvent.ExecutionAssign, (_assign: unknown, ack?: (a: unknown) => void) => ack?.({ ok: true }));
  await new Promise<void>((resolve, reject) => {
    socket.once(HubToAgentEvent.Welcome, (welcome: Welcome) => {
      welcomes.set(socket, welcome);
      resolve();
    });
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Emits one agent event and waits for the hub's ack. */
export function report(socket: Socket, event: (typeof AgentToHubEvent)[keyof typeof AgentToHubEvent], payload: unknown): Promise<any> {
  return socket.timeout(10_000).emitWithAck(event, payload);
}

/** An `execution.finished` payload: a command that exited 0 just now, no output; `fields` change any of it. */
export function resultPayload(executionId: string, fields: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return { executionId, status: 'succeeded', exitCode: 0, signal: null, reason: null, startedAt: now, finishedAt: now, outputChunks: 0, ...fields };
}
