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
  handshakeReportsSchema,
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

/** What the namespace middleware hands to handleConnection. */
interface AuthenticatedAgent {
  agentId: string;
  handshake: AgentHandshake;
  connectedAt: Date;
}

/** What a connected agent's socket carries for its life. */
interface AgentSocketData {
  agentId: string;
  /** Dispatches older than this connection are what an inventory on it can vouch for. */
  connectedAt: Date;
  counters: AgentSocketCounters;
  /** Drops are logged at most once per DROP_LOG_INTERVAL_MS, with how many there were. */
  dropsUnlogged: number;
  dropLoggedAt: number;
}

/** How the hub takes one agent event: the schema its payload must pass, and the service call. */
interface AgentEventRoute {
  schema: z.ZodType<unknown>;
  call: (payload: unknown, socket: Socket, data: AgentSocketData) => Promise<Ack>;
}

function route<T>(schema: z.ZodType<T>, call: (payload: T, socket: Socket, data: AgentSocketData) => Promise<Ack>): AgentEventRoute {
  return { schema, call: call as AgentEventRoute['call'] };
}

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

  /** Every event an agent may send, for all sockets alike; any other name is dropped. */
  private readonly routes: ReadonlyMap<string, AgentEventRoute> = new Map<string, AgentEventRoute>([
    // Agents of protocol 1.2 and older send their own heartbeats; newer ones answer the transport's pings.
    [AgentToHubEvent.Heartbeat, route(heartbeatSchema, async (_, socket, { agentId }) => {
      this.presence.heartbeat(agentId, socket.id);
      return ACK_OK;
    })],
    [AgentToHubEvent.Facts, route(agentFactsSchema, async (facts, _, { agentId }) => {
      await this.agents.recordFacts(agentId, facts);
      return ACK_OK;
    })],
    [AgentToHubEvent.Health, route(healthSampleSchema, async (sample, _, { agentId }) => {
      this.health.record(agentId, sample);
      return ACK_OK;
    })],
    [AgentToHubEvent.ExecutionStarted, route(executionStartedSchema, (p, _, { agentId }) => this.executions.reportStarted(agentId, p))],
    [AgentToHubEvent.ExecutionOutput, route(executionOutputSchema, (p, _, { agentId }) => this.executions.reportOutput(agentId, p))],
    [AgentToHubEvent.ExecutionFinished, route(executionFinishedSchema, (p, _, { agentId }) => this.executions.reportFinished(agentId, p))],
    [AgentToHubEvent.Inventory, route(agentInventorySchema, (inventory, _, { agentId, connectedAt }) =>
      this.reconciler.reconcile(agentId, inventory, connectedAt),
    )],
  ]);

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
    (socket.data as AuthenticatedAgent) = { agentId, handshake, connectedAt: new Date() };
  }

  /** Refused agents back off (5 s doubling to 5 min), so one line per attempt stays readable. */
  private logProtocolRefusal(socket: Socket, theirs: string): void {
    this.logger.warn({ agentProtocol: theirs, hubProtocol: PROTOCOL_VERSION, address: socket.handshake.address }, 'agent refused: PROTOCOL_MISMATCH');
  }

  async handleConnection(socket: Socket): Promise<void> {
    const { agentId, handshake, connectedAt } = socket.data as AuthenticatedAgent;
    // The handshake is recorded below and read no more: the credential does not stay in memory
    // for the connection's life.
    (socket.data as AgentSocketData) = {
      agentId,
      connectedAt,
      counters: { received: 0, dropped: 0, unknown: 0, validated: 0 },
      dropsUnlogged: 0,
      dropLoggedAt: 0,
    };
    socket.handshake.auth = {};
    // Register before the guarded update: a revoke racing this connection either sees the
    // socket and cuts it, or has already revoked the row and the update below fails.
    this.connections.register(agentId, socket);
    const budget = new AgentEventBudget(this.config.agentEventsPerSecond);
    // Agent events stop in this middleware: it never calls next(), so nothing from the wire reaches
    // the socket's emitter, `error` and `disconnect` included.
    socket.use(([event, ...args]) => this.receive(socket, budget, event, args));
    // The transport's pong, every heartbeat interval (HubSocketAdapter), is the heartbeat.
    socket.conn.on('heartbeat', () => this.presence.heartbeat(agentId, socket.id));
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
      handshakeReports: true,
    };
    socket.emit(HubToAgentEvent.Welcome, welcome);
    this.logger.log({ agentId, agentVersion: handshake.agentVersion }, 'agent connected');
    this.dispatcher.agentConnected(agentId);
    if (handshake.reports !== undefined) this.takeHandshakeReports(agentId, handshake.reports, connectedAt);
  }

  /**
   * A 1.5 agent's facts and inventory, taken from its handshake as the events would be: each
   * validated on its own, and a failure logged, never fatal. The agent does not resend them (it
   * cannot tell), as it does not resend a refused event: the inventory's work falls to the lease,
   * the facts wait for the next connection.
   */
  private takeHandshakeReports(agentId: string, reports: unknown, connectedAt: Date): void {
    const parsed = parsePayload(handshakeReportsSchema, reports);
    if (!parsed.ok) {
      this.logger.warn({ agentId, problem: parsed.message }, 'invalid reports in the handshake');
      return;
    }
    const { facts, inventory } = parsed.value;
    const failed = (report: string) => (error: Error) =>
      this.logger.error({ agentId, report, ...loggableError(error) }, 'a report from the handshake could not be stored');
    if (facts) this.agents.recordFacts(agentId, facts).catch(failed('facts'));
    if (inventory) this.reconciler.reconcile(agentId, inventory, connectedAt).catch(failed('inventory'));
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
   * Every incoming event ends here, in one middleware per socket: events over the rate limit and
   * unknown names are dropped unanswered, persistent excess disconnects the agent, and the rest
   * are validated and handed to their service. (A listener per event name besides the middleware,
   * with the handshake kept, cost ~1.9 KB of heap per agent: at 10,000 agents, most of what the
   * hub held beyond socket.io's own.)
   */
  private receive(socket: Socket, budget: AgentEventBudget, event: unknown, args: unknown[]): void {
    if (!socket.connected) return;
    const data = socket.data as AgentSocketData;
    data.counters.received += 1;
    // Every event spends from the budget, known or not: a flood of junk names costs the sender too.
    const admission = budget.admit();
    if (admission === 'accept') {
      const route = typeof event === 'string' ? this.routes.get(event) : undefined;
      if (route) this.handle(socket, data, event as string, route, args);
      else data.counters.unknown += 1;
      return;
    }
    data.counters.dropped += 1;
    if (admission === 'disconnect') {
      this.logger.warn({ agentId: data.agentId, limitPerSecond: this.config.agentEventsPerSecond }, 'agent disconnected: persistently over the event rate limit');
      socket.disconnect(true);
      return;
    }
    this.logDrop(data);
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

  /** Validate, call the service, answer the ack; a bad or failing message never takes the hub down. */
  private handle(socket: Socket, data: AgentSocketData, event: string, route: AgentEventRoute, args: unknown[]): void {
    const [payload, ack] = args;
    const reply = typeof ack === 'function' ? (ack as (a: Ack) => void) : () => undefined;
    data.counters.validated += 1;
    const parsed = parsePayload(route.schema, payload);
    if (!parsed.ok) {
      this.logger.warn({ agentId: data.agentId, event, problem: parsed.message }, 'invalid message from agent');
      reply(ackError(ProtocolErrorCode.ValidationError, parsed.message));
      return;
    }
    route.call(parsed.value, socket, data).then(reply, (error: Error) => {
      this.logger.error({ agentId: data.agentId, event, ...loggableError(error) }, 'agent message failed');
      reply(ackError(ProtocolErrorCode.Internal, 'the hub could not store this message; resend it'));
    });
  }
}
