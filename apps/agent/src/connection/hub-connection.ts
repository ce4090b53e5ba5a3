import type { Agent as HttpAgent } from 'node:http';
import {
  ACK_OK,
  ackSchema,
  AgentCapability,
  AgentToHubEvent,
  ackError,
  credentialRotateSchema,
  executionAssignSchema,
  executionCancelSchema,
  HubToAgentEvent,
  parsePayload,
  pingSchema,
  PROTOCOL_VERSION,
  protocolHasMinor,
  protocolMajorOf,
  ProtocolErrorCode,
  welcomeSchema,
  type Ack,
  type AgentFacts,
  type AgentInventory,
  type AgentHandshake,
  type ExecutionAssign,
  type HandshakeReports,
  type ExecutionCancel,
  type HealthSample,
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
import { HealthWithPong } from './health-with-pong';
import { describeConnectionError } from './hub-http';
import type { Outbox, OutboxMessage } from './outbox';

/** What the hub took from the handshake (1.5), so that the agent does not send it again. */
export interface TakenFromHandshake {
  facts: boolean;
}

/** What the connection hands the hub's messages to once they are validated. */
export interface HubSession {
  welcome(welcome: Welcome, taken: TakenFromHandshake): void;
  /** The connection is gone (whatever the reason); a welcome follows the next one. */
  disconnected(): void;
  assign(assign: ExecutionAssign): Ack;
  cancel(cancel: ExecutionCancel): Ack;
  runningCount(): number;
  /** What runs now and which results wait in the spool, told to the hub on each connection. */
  inventory(): AgentInventory;
  /** The host's facts, read for each connection's handshake (1.5). */
  facts(): Promise<AgentFacts>;
  /** Keeps a rotated credential durably; resolves once it is stored, rejects if it could not be. */
  storeCredential(credential: string): Promise<void>;
}

/** What this agent can do beyond protocol 1.0; the hub uses a feature only when it is announced. */
export const AGENT_CAPABILITIES: readonly string[] = [
  AgentCapability.Health,
  AgentCapability.Ping,
  AgentCapability.CredentialRotation,
  AgentCapability.Inventory,
  AgentCapability.OutputCap,
];

export interface HubConnectionTiming {
  /**
   * socket.io's own reconnect after a transport drop: first delay and cap, jittered ±50 %. The
   * cap is what a fleet waits after a hub restart; jitter spreads its arrivals over that window.
   */
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
  reconnectionDelayMaxMs: 5_000,
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
  /** The route to the hub (proxy, trusted CAs, pin); Node's default agent when absent. */
  httpAgent?: HttpAgent;
  /** Announced instead of PROTOCOL_VERSION (tests prove an incompatible agent is refused). */
  protocolVersion?: string;
}

type AckCallback = (ack: Ack) => void;

interface HubToAgentEvents {
  [HubToAgentEvent.Welcome]: (payload: unknown, ack?: AckCallback) => void;
  [HubToAgentEvent.ExecutionAssign]: (payload: unknown, ack?: AckCallback) => void;
  [HubToAgentEvent.ExecutionCancel]: (payload: unknown, ack?: AckCallback) => void;
  [HubToAgentEvent.Ping]: (payload: unknown, ack?: AckCallback) => void;
  [HubToAgentEvent.CredentialRotate]: (payload: unknown, ack?: AckCallback) => void;
}

interface AgentToHubEvents {
  [AgentToHubEvent.Heartbeat]: (payload: Heartbeat) => void;
  [AgentToHubEvent.ExecutionStarted]: (payload: OutboxMessage['payload'], ack: (ack: unknown) => void) => void;
  [AgentToHubEvent.ExecutionOutput]: (payload: OutboxMessage['payload'], ack: (ack: unknown) => void) => void;
  [AgentToHubEvent.ExecutionFinished]: (payload: OutboxMessage['payload'], ack: (ack: unknown) => void) => void;
  [AgentToHubEvent.Facts]: (payload: AgentFacts, ack: (ack: unknown) => void) => void;
  [AgentToHubEvent.Health]: (payload: HealthSample) => void;
  [AgentToHubEvent.Inventory]: (payload: AgentInventory, ack: (ack: unknown) => void) => void;
}

/**
 * The agent's one connection to the hub: dials out, keeps itself connected, validates what the
 * hub sends, sends heartbeats at the interval the hub chose, and lends the socket to the outbox
 * while connected.
 */
export class HubConnection {
  private readonly socket: Socket<HubToAgentEvents, AgentToHubEvents>;
  private readonly auth: AgentHandshake;
  /** Whether the announced protocol (1.5 on) carries the facts and inventory in the handshake. */
  private readonly reportsInHandshake: boolean;
  /** What the latest connection attempt's handshake carried. */
  private handshakeReports: HandshakeReports | undefined;
  private readonly timing: HubConnectionTiming;
  private readonly logger: Logger;
  private readonly health: HealthWithPong;
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
    const protocolVersion = options.protocolVersion ?? PROTOCOL_VERSION;
    this.auth = {
      agentId: config.agentId,
      credential: config.credential,
      protocolVersion,
      agentVersion,
      capabilities: [...AGENT_CAPABILITIES],
      facts,
    };
    this.reportsInHandshake = protocolHasMinor(protocolVersion, 5);
    // https:// becomes wss:// inside socket.io-client; the agent carries the proxy and trust policy.
    this.socket = io(`${config.hubUrl}${agentNamespaceFor(protocolVersion)}`, {
      autoConnect: false,
      // WebSocket only: no long-polling fallback, so any hub replica can serve any agent without sticky sessions.
      transports: ['websocket'],
      // Asked for on each connection attempt, so that the inventory is the one of that moment.
      auth: (send) => {
        this.handshake().then(send, (error: unknown) => {
          this.logger.warn({ error: errorMessage(error) }, 'reports not read for the handshake; sent after the welcome');
          send(this.auth);
        });
      },
      ...(options.httpAgent ? { agent: options.httpAgent as unknown as string } : {}),
      reconnectionDelay: this.timing.reconnectionDelayMs,
      reconnectionDelayMax: this.timing.reconnectionDelayMaxMs,
      randomizationFactor: 0.5,
    });
    this.health = new HealthWithPong(this.socket.io, (sample) => {
      if (this.socket.connected) this.socket.volatile.emit(AgentToHubEvent.Health, sample);
    });
    this.listen();
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /**
   * Sends the host's facts and resolves with the hub's ack, or undefined when not connected or not
   * acked in time. Never buffered while disconnected: they are sent again after each welcome.
   */
  async sendFacts(facts: AgentFacts): Promise<unknown> {
    if (!this.socket.connected) return undefined;
    try {
      return await this.socket.timeout(this.timing.ackTimeoutMs).emitWithAck(AgentToHubEvent.Facts, facts);
    } catch (error) {
      this.logger.debug({ event: AgentToHubEvent.Facts, error: errorMessage(error) }, 'report not acked');
      return undefined;
    }
  }

  /**
   * Sends a health sample without asking an ack, and drops it when not connected: a fleet's
   * agents must not replay an outage's worth of samples when the hub comes back, and at fleet
   * scale each ack is a frame for the hub to write. It goes with the next pong when the hub pings
   * often enough (HealthWithPong).
   */
  sendHealth(sample: HealthSample): void {
    this.health.send(sample);
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
      this.health.disconnected();
      options.outbox.detach();
      options.session.disconnected();
      if (this.closed) return;
      // The hub closed this connection on purpose; socket.io will not come back by itself.
      const retryInMs = reason === 'io server disconnect' ? this.retryRefused() : undefined;
      logger.warn({ reason, retryInMs }, 'disconnected from hub');
    });

    socket.on('connect_error', (error: Error & { data?: unknown }) => {
      if (this.closed) return;
      if (socket.active) {
        // A transport failure (refused, TLS, proxy): socket.io is already retrying with its own backoff.
        this.transportFailures += 1;
        const level = this.transportFailures === 1 ? 'warn' : 'debug';
        logger[level](
          { error: error.message, cause: transportCause(error), attempt: this.transportFailures },
          'cannot reach hub; retrying',
        );
        return;
      }
      const refusal = refusalOf(error);
      const retryInMs = this.retryRefused();
      logger.error({ code: refusal.code, hubMessage: refusal.message, retryInMs }, 'handshake refused');
    });

    this.handle(HubToAgentEvent.Welcome, welcomeSchema, (welcome) => {
      // Only a welcome proves the hub took us: one that accepts and at once disconnects keeps backing off.
      this.refusals = 0;
      // A 1.5 hub took the reports the handshake carried; an older one ignored them and gets the events.
      const taken = welcome.handshakeReports ? this.handshakeReports : undefined;
      this.health.welcome(welcome);
      options.session.welcome(welcome, { facts: taken?.facts !== undefined });
      // A 1.3 hub takes the transport's pongs as heartbeats; an older one needs ours.
      if (welcome.transportHeartbeat) clearInterval(this.heartbeatTimer);
      else this.startHeartbeats(welcome.heartbeatIntervalSeconds);
      if (taken?.inventory) this.logInventory(taken.inventory, 'handshake');
      else this.sendInventory(welcome.protocolVersion);
      return ACK_OK;
    });
    this.handle(HubToAgentEvent.ExecutionAssign, executionAssignSchema, (assign) =>
      options.session.assign(assign),
    );
    this.handle(HubToAgentEvent.ExecutionCancel, executionCancelSchema, (cancel) =>
      options.session.cancel(cancel),
    );
    // Answered at once: the hub measures the round trip through the live socket.
    this.handle(HubToAgentEvent.Ping, pingSchema, () => ACK_OK);
    this.handle(HubToAgentEvent.CredentialRotate, credentialRotateSchema, (rotate) =>
      this.rotateCredential(rotate.credential),
    );
  }

  /**
   * Stores the new credential first and only then acks: the hub switches over on our ack, so an
   * agent that could not store it keeps working with the old one instead of locking itself out
   * at the next reconnect. Future handshakes (reconnects) carry the new one.
   */
  private async rotateCredential(credential: string): Promise<Ack> {
    try {
      await this.options.session.storeCredential(credential);
    } catch (error) {
      this.logger.error({ error: errorMessage(error) }, 'could not store the rotated credential; keeping the old one');
      return ackError(ProtocolErrorCode.Internal, `agent could not store the new credential: ${errorMessage(error)}`);
    }
    this.auth.credential = credential;
    this.logger.info({ agentId: this.options.config.agentId }, 'credential rotated');
    return ACK_OK;
  }

  /**
   * The handshake of one connection attempt. From 1.5 it carries the host's facts and the
   * inventory, which older agents send as events after the welcome: at a fleet's reconnect that
   * is two messages and two acks fewer per agent for the hub. Reports that cannot be read now
   * are left out (see the socket's `auth`), and sent after the welcome as before.
   */
  private async handshake(): Promise<AgentHandshake> {
    this.handshakeReports = undefined;
    if (!this.reportsInHandshake) return this.auth;
    const facts = await this.options.session.facts();
    const reports: HandshakeReports = { facts, inventory: this.options.session.inventory() };
    this.handshakeReports = reports;
    return { ...this.auth, reports };
  }

  /**
   * Tells the hub what this process runs and which results its spool holds, so the hub ends at
   * once what a restarted agent no longer has. The spooled results themselves follow through the
   * outbox. A hub older than 1.2 has no handler for it, so it is not sent there.
   */
  private sendInventory(hubProtocolVersion: string): void {
    if (!protocolHasMinor(hubProtocolVersion, 2)) return;
    const inventory = this.options.session.inventory();
    this.socket
      .timeout(this.timing.ackTimeoutMs)
      .emitWithAck(AgentToHubEvent.Inventory, inventory)
      .then(
        (ack) => {
          const parsed = ackSchema.safeParse(ack);
          if (!parsed.success || !parsed.data.ok) this.logger.warn({ ack }, 'hub did not take the inventory');
        },
        // The hub's lease still ends what it cannot settle; the next connection tries again.
        (error: unknown) => this.logger.warn({ error: errorMessage(error) }, 'inventory not acked'),
      );
    this.logInventory(inventory, 'event');
  }

  private logInventory(inventory: AgentInventory, via: 'handshake' | 'event'): void {
    this.logger.info({ running: inventory.running.length, results: inventory.results.length, via }, 'inventory sent');
  }

  /** Every hub message is validated here, at the edge; a bad one is refused and logged, never fatal. */
  private handle<T>(
    event: keyof HubToAgentEvents,
    schema: z.ZodType<T>,
    handler: (value: T) => Ack | Promise<Ack>,
  ): void {
    this.socket.on(event, (payload: unknown, ack?: AckCallback) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const parsed = parsePayload(schema, payload);
      if (!parsed.ok) {
        this.logger.warn({ event, problem: parsed.message }, 'invalid message from hub');
        reply(ackError(ProtocolErrorCode.ValidationError, parsed.message));
        return;
      }
      const failed = (error: unknown): void => {
        this.logger.error({ event, error: errorMessage(error) }, 'failed to handle message from hub');
        reply(ackError(ProtocolErrorCode.Internal, 'agent failed to handle the message'));
      };
      try {
        const result = handler(parsed.value);
        if (result instanceof Promise) result.then(reply, failed);
        else reply(result);
      } catch (error) {
        failed(error);
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
      // Not through the outbox: a lost heartbeat is replaced by the next one, never resent. No
      // ack asked: nothing here would act on it, and across a fleet each one is a hub write.
      this.socket.emit(AgentToHubEvent.Heartbeat, heartbeat);
    };
    beat();
    this.heartbeatTimer = setInterval(beat, intervalMs);
  }
}

/**
 * The namespace of the announced protocol's major (`/agent/v1`): an agent of another major asks
 * for its own, and the hub answers PROTOCOL_MISMATCH naming both versions.
 */
export function agentNamespaceFor(protocolVersion: string): string {
  const major = protocolMajorOf(protocolVersion) ?? protocolMajorOf(PROTOCOL_VERSION);
  return `/agent/v${major}`;
}

/**
 * What is behind engine.io's bare "websocket error": the ws error (TLS, proxy, refused) rides in
 * `description` as an ErrorEvent whose `error` is the Node error.
 */
export function transportCause(error: Error & { description?: unknown }): string | undefined {
  const description = error.description;
  if (description instanceof Error) return describeConnectionError(description);
  if (typeof description === 'object' && description !== null) {
    const inner = (description as { error?: unknown; message?: unknown }).error;
    if (inner instanceof Error) return describeConnectionError(inner);
    const message = (description as { message?: unknown }).message;
    if (typeof message === 'string' && message !== '') return message;
  }
  return undefined;
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
