import {
  ACK_OK,
  AGENT_NAMESPACE,
  AgentToHubEvent,
  ackError,
  executionAssignSchema,
  executionCancelSchema,
  HubToAgentEvent,
  parsePayload,
  PROTOCOL_VERSION,
  ProtocolErrorCode,
  welcomeSchema,
  type Ack,
  type AgentHandshake,
  type ExecutionAssign,
  type ExecutionCancel,
  type Heartbeat,
  type Welcome,
} from '@outpost/protocol';
import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import type { AgentConfig } from '../config/agent-config';
import { errorMessage } from '../errors';
import type { HostFacts } from '../health/host-facts';
import type { Logger } from '../logging/logger';
import { backoffDelay, type BackoffPolicy } from './backoff';
import type { Outbox, OutboxMessage } from './outbox';

/** What the connection hands the hub's messages to once they are validated. */
export interface HubSession {
  welcome(welcome: Welcome): void;
  assign(assign: ExecutionAssign): Ack;
  cancel(cancel: ExecutionCancel): Ack;
  runningCount(): number;
}

export interface HubConnectionTiming {
  /** socket.io's own reconnect after a transport drop: first delay and cap, jittered ±50 %. */
  reconnectionDelayMs: number;
  reconnectionDelayMaxMs: number;
  /**
   * Retry after the hub refused the handshake (bad credential, protocol mismatch) or closed the
   * connection itself. socket.io gives up in that case; we keep trying because an admin may fix
   * the hub side, but slowly, so a fleet of refused agents does not hammer it.
   */
  refusedBackoff: BackoffPolicy;
  /** How long the hub has to ack a report before it is resent. */
  ackTimeoutMs: number;
}

export const DEFAULT_HUB_CONNECTION_TIMING: HubConnectionTiming = {
  reconnectionDelayMs: 1_000,
  reconnectionDelayMaxMs: 30_000,
  refusedBackoff: { initialMs: 5_000, maxMs: 5 * 60_000, jitter: 0.5 },
  ackTimeoutMs: 30_000,
};

export interface HubConnectionOptions {
  config: Pick<AgentConfig, 'hubUrl' | 'agentId' | 'credential'>;
  agentVersion: string;
  facts: HostFacts;
  outbox: Outbox;
  session: HubSession;
  logger: Logger;
  timing?: HubConnectionTiming;
}

type AckCallback = (ack: Ack) => void;

interface HubToAgentEvents {
  [HubToAgentEvent.Welcome]: (payload: unknown, ack?: AckCallback) => void;
  [HubToAgentEvent.ExecutionAssign]: (payload: unknown, ack?: AckCallback) => void;
  [HubToAgentEvent.ExecutionCancel]: (payload: unknown, ack?: AckCallback) => void;
}

interface AgentToHubEvents {
  [AgentToHubEvent.Heartbeat]: (payload: Heartbeat, ack: (ack: unknown) => void) => void;
  [AgentToHubEvent.ExecutionStarted]: (payload: OutboxMessage['payload'], ack: (ack: unknown) => void) => void;
  [AgentToHubEvent.ExecutionOutput]: (payload: OutboxMessage['payload'], ack: (ack: unknown) => void) => void;
  [AgentToHubEvent.ExecutionFinished]: (payload: OutboxMessage['payload'], ack: (ack: unknown) => void) => void;
}

/**
 * The agent's one connection to the hub: dials out, keeps itself connected, validates what the
 * hub sends, sends heartbeats at the interval the hub chose, and lends the socket to the outbox
 * while connected.
 */
export class HubConnection {
  private readonly socket: Socket<HubToAgentEvents, AgentToHubEvents>;
  private readonly timing: HubConnectionTiming;
  private readonly logger: Logger;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private refusedRetryTimer: NodeJS.Timeout | undefined;
  /** Refusals in a row; reset by a welcome. */
  private refusals = 0;
  /** Failed transport attempts in a row: only the first of an outage is worth a warning. */
  private transportFailures = 0;
  private closed = false;

  constructor(private readonly options: HubConnectionOptions) {
    this.timing = options.timing ?? DEFAULT_HUB_CONNECTION_TIMING;
    this.logger = options.logger;
    const { config, agentVersion, facts } = options;
    const auth: AgentHandshake = {
      agentId: config.agentId,
      credential: config.credential,
      protocolVersion: PROTOCOL_VERSION,
      agentVersion,
      capabilities: [],
      facts,
    };
    this.socket = io(`${config.hubUrl}${AGENT_NAMESPACE}`, {
      autoConnect: false,
      // WebSocket only: no long-polling fallback, so any hub replica can serve any agent without sticky sessions.
      transports: ['websocket'],
      auth,
      reconnectionDelay: this.timing.reconnectionDelayMs,
      reconnectionDelayMax: this.timing.reconnectionDelayMaxMs,
      randomizationFactor: 0.5,
    });
    this.listen();
  }

  start(): void {
    this.socket.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.refusedRetryTimer);
    this.socket.disconnect();
  }

  private listen(): void {
    const { socket, logger, options } = this;

    socket.on('connect', () => {
      this.transportFailures = 0;
      logger.info({ agentId: options.config.agentId, hubUrl: options.config.hubUrl }, 'connected');
      options.outbox.attach((event, payload) =>
        socket.timeout(this.timing.ackTimeoutMs).emitWithAck(event, payload),
      );
    });

    socket.on('disconnect', (reason) => {
      clearInterval(this.heartbeatTimer);
      options.outbox.detach();
      if (this.closed) return;
      // The hub closed this connection on purpose; socket.io will not come back by itself.
      const retryInMs = reason === 'io server disconnect' ? this.retryRefused() : undefined;
      logger.warn({ reason, retryInMs }, 'disconnected from hub');
    });

    socket.on('connect_error', (error: Error & { data?: unknown }) => {
      if (this.closed) return;
      if (socket.active) {
        // A transport failure: socket.io is already retrying with its own backoff.
        this.transportFailures += 1;
        const level = this.transportFailures === 1 ? 'warn' : 'debug';
        logger[level]({ error: error.message, attempt: this.transportFailures }, 'cannot reach hub; retrying');
        return;
      }
      const refusal = refusalOf(error);
      const retryInMs = this.retryRefused();
      logger.error({ code: refusal.code, hubMessage: refusal.message, retryInMs }, 'handshake refused');
    });

    this.handle(HubToAgentEvent.Welcome, welcomeSchema, (welcome) => {
      // Only a welcome proves the hub took us: one that accepts and at once disconnects keeps backing off.
      this.refusals = 0;
      options.session.welcome(welcome);
      this.startHeartbeats(welcome.heartbeatIntervalSeconds);
      return ACK_OK;
    });
    this.handle(HubToAgentEvent.ExecutionAssign, executionAssignSchema, (assign) =>
      options.session.assign(assign),
    );
    this.handle(HubToAgentEvent.ExecutionCancel, executionCancelSchema, (cancel) =>
      options.session.cancel(cancel),
    );
  }

  /** Every hub message is validated here, at the edge; a bad one is refused and logged, never fatal. */
  private handle<T>(event: keyof HubToAgentEvents, schema: z.ZodType<T>, handler: (value: T) => Ack): void {
    this.socket.on(event, (payload: unknown, ack?: AckCallback) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const parsed = parsePayload(schema, payload);
      if (!parsed.ok) {
        this.logger.warn({ event, problem: parsed.message }, 'invalid message from hub');
        reply(ackError(ProtocolErrorCode.ValidationError, parsed.message));
        return;
      }
      try {
        reply(handler(parsed.value));
      } catch (error) {
        this.logger.error({ event, error: errorMessage(error) }, 'failed to handle message from hub');
        reply(ackError(ProtocolErrorCode.Internal, 'agent failed to handle the message'));
      }
    });
  }

  /** Schedules the next connection attempt after a refusal; returns the delay chosen. */
  private retryRefused(): number {
    const waitMs = backoffDelay(this.timing.refusedBackoff, this.refusals);
    this.refusals += 1;
    clearTimeout(this.refusedRetryTimer);
    this.refusedRetryTimer = setTimeout(() => this.socket.connect(), waitMs);
    return waitMs;
  }

  private startHeartbeats(intervalSeconds: number): void {
    clearInterval(this.heartbeatTimer);
    const intervalMs = intervalSeconds * 1_000;
    const beat = (): void => {
      if (!this.socket.connected) return;
      const heartbeat: Heartbeat = { sentAt: new Date().toISOString(), running: this.options.session.runningCount() };
      // Not through the outbox: a lost heartbeat is replaced by the next one, never resent.
      this.socket.timeout(intervalMs).emit(AgentToHubEvent.Heartbeat, heartbeat, (error: Error | null) => {
        if (error) this.logger.debug({ error: error.message }, 'heartbeat not acked');
      });
    };
    beat();
    this.heartbeatTimer = setInterval(beat, intervalMs);
  }
}

/** The hub's middleware puts `{code, message}` in `err.data`; anything else is reported as is. */
function refusalOf(error: Error & { data?: unknown }): { code: string; message: string } {
  const data = error.data;
  if (typeof data === 'object' && data !== null) {
    const { code, message } = data as Record<string, unknown>;
    if (typeof code === 'string') return { code, message: typeof message === 'string' ? message : error.message };
  }
  return { code: 'UNKNOWN', message: error.message };
}
