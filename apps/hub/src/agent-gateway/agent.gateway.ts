import { type BeforeApplicationShutdown, Inject, Logger } from '@nestjs/common';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  type Ack,
  ackError,
  AGENT_NAMESPACE,
  type AgentHandshake,
  agentFactsSchema,
  agentHandshakeSchema,
  agentInventorySchema,
  AgentToHubEvent,
  healthSampleSchema,
  ACK_OK,
  executionFinishedSchema,
  executionOutputSchema,
  executionStartedSchema,
  heartbeatSchema,
  HubToAgentEvent,
  MAX_OUTPUT_CHUNK_BYTES,
  parsePayload,
  PROTOCOL_MAJOR,
  PROTOCOL_VERSION,
  ProtocolErrorCode,
  protocolMajorOf,
  type Welcome,
} from '@outpost/protocol';
import type { Namespace, Socket } from 'socket.io';
import type { z } from 'zod';
import { AgentConnections } from '../agents/agent-connections';
import { AgentPresenceService } from '../agents/agent-presence.service';
import { AgentsService } from '../agents/agents.service';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { ExecutionDispatcher } from '../executions/execution-dispatcher';
import { ExecutionReconciler } from '../executions/execution-reconciler.service';
import { ExecutionsService } from '../executions/executions.service';
import { HealthSamplesService } from '../health-samples/health-samples.service';
import { AgentEventBudget } from './agent-event-budget';
import { loggableError } from '../logging/loggable-error';

/**
 * What one connection sent, logged when it ends: `received` events, `dropped` over the rate
 * limit, `unknown` event names (dropped too), and `validated`: events that reached the payload
 * validator (valid or not).
 */
interface AgentSocketCounters {
  received: number;
  dropped: number;
  unknown: number;
  validated: number;
}

interface AgentSocketData {
  agentId: string;
  handshake: AgentHandshake;
  /** Dispatches older than this connection are what an inventory on it can vouch for. */
  connectedAt: Date;
  counters: AgentSocketCounters;
  /** Drops are logged at most once per DROP_LOG_INTERVAL_MS, with how many there were. */
  dropsUnlogged: number;
  dropLoggedAt: number;
}

const KNOWN_EVENTS: ReadonlySet<string> = new Set(Object.values(AgentToHubEvent));
const DROP_LOG_INTERVAL_MS = 5_000;

function refusal(code: ProtocolErrorCode, message: string): Error {
  return Object.assign(new Error(message), { data: { code, message } });
}

/**
 * The agents' socket.io namespace. It authenticates in the handshake, before any event is
 * accepted, validates every message, and hands each one to a service: no rules live here.
 */
@WebSocketGateway({ namespace: AGENT_NAMESPACE })
export class AgentGateway
  implements OnGatewayInit<Namespace>, OnGatewayConnection<Socket>, OnGatewayDisconnect<Socket>, BeforeApplicationShutdown
{
  private readonly logger = new Logger(AgentGateway.name);
  private stopping = false;

  constructor(
    private readonly agents: AgentsService,
    private readonly connections: AgentConnections,
    private readonly presence: AgentPresenceService,
    private readonly executions: ExecutionsService,
    private readonly reconciler: ExecutionReconciler,
    private readonly dispatcher: ExecutionDispatcher,
    private readonly health: HealthSamplesService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  afterInit(namespace: Namespace): void {
    namespace.use((socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (error: Error) => next(error),
      );
    });
    // Any other /agent/vN answers with a refusal naming both versions, never socket.io's bare "Invalid namespace".
    namespace.server.of(/^\/agent\/.*$/).use((socket, next) => {
      const theirs = (socket.handshake.auth as { protocolVersion?: unknown }).protocolVersion;
      this.logProtocolRefusal(socket, typeof theirs === 'string' ? theirs : socket.nsp.name);
      next(
        refusal(
          ProtocolErrorCode.ProtocolMismatch,
          `This hub speaks agent protocol ${PROTOCOL_VERSION} on ${AGENT_NAMESPACE}; the agent asked for ${socket.nsp.name}` +
            (typeof theirs === 'string' ? ` with protocol ${theirs}` : '') +
            '. Install the agent version this hub serves.',
        ),
      );
    });
  }

  private async authenticate(socket: Socket): Promise<void> {
    const parsed = parsePayload(agentHandshakeSchema, socket.handshake.auth);
    if (!parsed.ok) throw refusal(ProtocolErrorCode.Unauthorized, `Invalid handshake: ${parsed.message}`);
    const handshake = parsed.value;
    if (protocolMajorOf(handshake.protocolVersion) !== PROTOCOL_MAJOR) {
      this.logProtocolRefusal(socket, handshake.protocolVersion);
      throw refusal(
        ProtocolErrorCode.ProtocolMismatch,
        `Agent protocol ${handshake.protocolVersion} is not compatible with this hub's protocol ${PROTOCOL_VERSION}`,
      );
    }
    const agentId = await this.agents.authenticate(handshake);
    if (!agentId) {
      this.logger.warn({ agentId: handshake.agentId, address: socket.handshake.address }, 'agent handshake refused');
      throw refusal(ProtocolErrorCode.Unauthorized, 'Unknown agent, revoked agent or wrong credential');
    }
    (socket.data as AgentSocketData) = {
      agentId,
      handshake,
      connectedAt: new Date(),
      counters: { received: 0, dropped: 0, unknown: 0, validated: 0 },
      dropsUnlogged: 0,
      dropLoggedAt: 0,
    };
  }

  /** Refused agents back off (5 s doubling to 5 min), so one line per attempt stays readable. */
  private logProtocolRefusal(socket: Socket, theirs: string): void {
    this.logger.warn({ agentProtocol: theirs, hubProtocol: PROTOCOL_VERSION, address: socket.handshake.address }, 'agent refused: PROTOCOL_MISMATCH');
  }

  async handleConnection(socket: Socket): Promise<void> {
    const { agentId, handshake, connectedAt } = socket.data as AgentSocketData;
    // Register before the guarded update: a revoke racing this connection either sees the
    // socket and cuts it, or has already revoked the row and the update below fails.
    this.connections.register(agentId, socket);
    this.limitEvents(socket);
    this.bindEvents(socket, agentId, connectedAt);
    let marked: boolean;
    try {
      marked = await this.agents.markConnected(agentId, socket.id, handshake);
    } catch (error) {
      // Nest does not catch here: a rejection would end the process. The agent comes back by itself.
      this.logger.warn({ agentId, ...loggableError(error) }, 'agent connection could not be recorded; it is cut and will reconnect');
      socket.disconnect(true);
      return;
    }
    if (!marked) {
      this.connections.disconnect(agentId);
      return;
    }
    const welcome: Welcome = {
      agentId,
      protocolVersion: PROTOCOL_VERSION,
      heartbeatIntervalSeconds: this.config.agentHeartbeatSeconds,
      maxOutputChunkBytes: MAX_OUTPUT_CHUNK_BYTES,
      healthIntervalSeconds: this.config.agentHealthIntervalSeconds,
      outputCapBytes: this.config.outputCapBytes,
      transportHeartbeat: true,
    };
    socket.emit(HubToAgentEvent.Welcome, welcome);
    this.logger.log({ agentId, agentVersion: handshake.agentVersion }, 'agent connected');
    this.dispatcher.agentConnected(agentId);
  }

  /**
   * A stopping hub leaves its agents' rows as they are: they reconnect to the next hub, which
   * marks them online again, and any that do not come back go offline through the silence sweep.
   * Writing each one offline here would only delay the restart by a statement per agent.
   */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async handleDisconnect(socket: Socket): Promise<void> {
    const data = socket.data as AgentSocketData | undefined;
    if (!data?.agentId) return;
    this.connections.unregister(data.agentId, socket);
    if (this.stopping) return;
    await this.agents.markDisconnected(data.agentId, socket.id).catch((error: Error) => this.logger.warn(error.message));
    this.logger.log({ agentId: data.agentId, events: data.counters }, 'agent disconnected');
  }

  /**
   * Every incoming event passes here first: events over the rate limit and unknown names are
   * dropped unanswered (next() is not called; an error passed to next() would be emitted as an
   * `error` event on the socket), and persistent excess disconnects the agent.
   */
  private limitEvents(socket: Socket): void {
    const data = socket.data as AgentSocketData;
    const budget = new AgentEventBudget(this.config.agentEventsPerSecond);
    socket.use(([event], next) => {
      data.counters.received += 1;
      // Every event spends from the budget, known or not: a flood of junk names costs the sender too.
      const admission = budget.admit();
      if (admission === 'accept') {
        if (typeof event === 'string' && KNOWN_EVENTS.has(event)) next();
        else data.counters.unknown += 1;
        return;
      }
      data.counters.dropped += 1;
      if (admission === 'disconnect') {
        // Events already on their way after the cut are decided the same way: cut and log once.
        if (!socket.connected) return;
        this.logger.warn({ agentId: data.agentId, limitPerSecond: this.config.agentEventsPerSecond }, 'agent disconnected: persistently over the event rate limit');
        socket.disconnect(true);
        return;
      }
      this.logDrop(data);
    });
  }

  private logDrop(data: AgentSocketData): void {
    data.dropsUnlogged += 1;
    const now = Date.now();
    if (now - data.dropLoggedAt < DROP_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { agentId: data.agentId, dropped: data.dropsUnlogged, limitPerSecond: this.config.agentEventsPerSecond },
      'agent events over the rate limit dropped',
    );
    data.dropsUnlogged = 0;
    data.dropLoggedAt = now;
  }

  private bindEvents(socket: Socket, agentId: string, connectedAt: Date): void {
    const counters = (socket.data as AgentSocketData).counters;
    // The transport's pong, every heartbeat interval (HubSocketAdapter), is the heartbeat.
    socket.conn.on('heartbeat', () => this.presence.heartbeat(agentId, socket.id));
    // Agents of protocol 1.2 and older also send their own.
    socket.on(AgentToHubEvent.Heartbeat, (payload: unknown, ack?: unknown) => {
      counters.validated += 1;
      const parsed = parsePayload(heartbeatSchema, payload);
      if (parsed.ok) this.presence.heartbeat(agentId, socket.id);
      if (typeof ack === 'function') ack(parsed.ok ? { ok: true } : ackError(ProtocolErrorCode.ValidationError, parsed.message));
    });
    this.handle(socket, agentId, AgentToHubEvent.Facts, agentFactsSchema, async (facts) => {
      await this.agents.recordFacts(agentId, facts);
      return ACK_OK;
    });
    this.handle(socket, agentId, AgentToHubEvent.Health, healthSampleSchema, async (sample) => {
      this.health.record(agentId, sample);
      return ACK_OK;
    });
    this.handle(socket, agentId, AgentToHubEvent.ExecutionStarted, executionStartedSchema, (p) =>
      this.executions.reportStarted(agentId, p),
    );
    this.handle(socket, agentId, AgentToHubEvent.ExecutionOutput, executionOutputSchema, (p) =>
      this.executions.reportOutput(agentId, p),
    );
    this.handle(socket, agentId, AgentToHubEvent.ExecutionFinished, executionFinishedSchema, (p) =>
      this.executions.reportFinished(agentId, p),
    );
    this.handle(socket, agentId, AgentToHubEvent.Inventory, agentInventorySchema, (inventory) =>
      this.reconciler.reconcile(agentId, inventory, connectedAt),
    );
  }

  /** Validate, call the service, answer the ack; a bad or failing message never takes the hub down. */
  private handle<T>(
    socket: Socket,
    agentId: string,
    event: string,
    schema: z.ZodType<T>,
    call: (payload: T) => Promise<Ack>,
  ): void {
    const counters = (socket.data as AgentSocketData).counters;
    socket.on(event, (payload: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (a: Ack) => void) : () => undefined;
      counters.validated += 1;
      const parsed = parsePayload(schema, payload);
      if (!parsed.ok) {
        this.logger.warn({ agentId, event, problem: parsed.message }, 'invalid message from agent');
        reply(ackError(ProtocolErrorCode.ValidationError, parsed.message));
        return;
      }
      call(parsed.value).then(reply, (error: Error) => {
        this.logger.error({ agentId, event, ...loggableError(error) }, 'agent message failed');
        reply(ackError(ProtocolErrorCode.Internal, 'the hub could not store this message; resend it'));
      });
    });
  }
}
