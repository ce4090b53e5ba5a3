import {
  AgentToHubEvent,
  ackSchema,
  ProtocolErrorCode,
  type ExecutionFinished,
  type ExecutionOutput,
  type ExecutionStarted,
} from '@outpost/protocol';
import { errorMessage } from '../errors';
import type { Logger } from '../logging/logger';
import { backoffDelay, type BackoffPolicy } from './backoff';

/** Everything the agent reports that must reach the hub (heartbeats are not: the next one replaces a lost one). */
export type OutboxMessage =
  | { event: typeof AgentToHubEvent.ExecutionStarted; payload: ExecutionStarted }
  | { event: typeof AgentToHubEvent.ExecutionOutput; payload: ExecutionOutput }
  | { event: typeof AgentToHubEvent.ExecutionFinished; payload: ExecutionFinished };

/**
 * Where messages wait until the hub acknowledges them. Kept in memory for now; the disk spool,
 * which survives an agent restart, implements this same interface.
 */
export interface OutboxStore {
  /** Keeps `message`; ids grow in the order messages were added. */
  add(message: OutboxMessage): number;
  remove(id: number): void;
  /** Messages not yet removed, oldest first. */
  entries(): Iterable<[number, OutboxMessage]>;
  readonly size: number;
}

export class MemoryOutboxStore implements OutboxStore {
  private readonly messages = new Map<number, OutboxMessage>();
  private nextId = 0;

  add(message: OutboxMessage): number {
    const id = this.nextId++;
    this.messages.set(id, message);
    return id;
  }

  remove(id: number): void {
    this.messages.delete(id);
  }

  entries(): Iterable<[number, OutboxMessage]> {
    return this.messages.entries();
  }

  get size(): number {
    return this.messages.size;
  }
}

/** Sends one message and resolves with the hub's ack; rejects on ack timeout or disconnect. */
export type OutboxTransport = (event: OutboxMessage['event'], payload: OutboxMessage['payload']) => Promise<unknown>;

export interface OutboxOptions {
  /**
   * Messages awaiting an ack at once: enough to keep output flowing over a slow link, few enough
   * to bound the burst resent after a reconnect.
   */
  window: number;
  /** Wait before resending a message the hub failed to take while connected (INTERNAL, ack timeout). */
  retry: BackoffPolicy;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  window: 32,
  retry: { initialMs: 1_000, maxMs: 30_000, jitter: 0.5 },
};

/** The hub understood the message and will never take it: resending cannot help. */
const PERMANENT_REFUSALS: ReadonlySet<string> = new Set([
  ProtocolErrorCode.ValidationError,
  ProtocolErrorCode.NotFound,
  ProtocolErrorCode.Conflict,
]);

/**
 * Delivers messages in order, at least once: each stays in the store until the hub acks it and is
 * resent after a failure or a reconnect (the hub stores each message once, so repeats are
 * harmless). A `finished` report waits until every earlier message of its execution is acked, so
 * the hub never sees an execution end before it has all of its output.
 */
export class Outbox {
  private transport: OutboxTransport | null = null;
  /** Bumped on every attach/detach, so a failure reported by an old connection is ignored. */
  private generation = 0;
  private readonly inFlight = new Set<number>();
  private readonly retries = new Map<number, { attempts: number; notBefore: number }>();
  private retryTimer: NodeJS.Timeout | undefined;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly store: OutboxStore,
    private readonly logger: Logger,
    private readonly options: OutboxOptions = DEFAULT_OUTBOX_OPTIONS,
  ) {}

  get size(): number {
    return this.store.size;
  }

  enqueue(message: OutboxMessage): void {
    this.store.add(message);
    this.pump();
  }

  /** A connection is up: (re)send everything not yet acked, oldest first. */
  attach(transport: OutboxTransport): void {
    this.generation += 1;
    this.transport = transport;
    this.inFlight.clear();
    for (const retry of this.retries.values()) retry.notBefore = 0;
    this.pump();
  }

  /** The connection is gone: whatever was in flight counts as unsent. */
  detach(): void {
    this.generation += 1;
    this.transport = null;
    this.inFlight.clear();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Resolves true once every message is acked, or false when `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.store.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((waiter) => waiter !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.drainWaiters.push(done);
    });
  }

  private pump(): void {
    const transport = this.transport;
    if (transport === null) return;
    const now = Date.now();
    let nextRetryAt = Infinity;
    /** Executions with a message ahead in the queue: their `finished` must wait. */
    const unackedAhead = new Set<string>();
    for (const [id, message] of this.store.entries()) {
      if (this.inFlight.size >= this.options.window) break;
      const { executionId } = message.payload;
      const blocked = message.event === AgentToHubEvent.ExecutionFinished && unackedAhead.has(executionId);
      unackedAhead.add(executionId);
      if (blocked || this.inFlight.has(id)) continue;
      const notBefore = this.retries.get(id)?.notBefore ?? 0;
      if (notBefore > now) {
        nextRetryAt = Math.min(nextRetryAt, notBefore);
        continue;
      }
      this.send(transport, id, message);
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (nextRetryAt !== Infinity) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, nextRetryAt - now);
    }
  }

  private send(transport: OutboxTransport, id: number, message: OutboxMessage): void {
    const generation = this.generation;
    this.inFlight.add(id);
    transport(message.event, message.payload).then(
      (ack) => this.settle(id, message, generation, ack),
      (error: unknown) => this.retryLater(id, message, generation, errorMessage(error)),
    );
  }

  private settle(id: number, message: OutboxMessage, generation: number, ack: unknown): void {
    const parsed = ackSchema.safeParse(ack);
    if (!parsed.success) {
      this.retryLater(id, message, generation, 'malformed ack from hub');
      return;
    }
    if (!parsed.data.ok) {
      const { code, message: hubMessage } = parsed.data.error;
      if (!PERMANENT_REFUSALS.has(code)) {
        this.logger.warn(
          { event: message.event, executionId: message.payload.executionId, code, hubMessage },
          'hub could not take a message; will resend',
        );
        this.retryLater(id, message, generation, code);
        return;
      }
      this.logger.warn(
        { event: message.event, executionId: message.payload.executionId, code, hubMessage },
        'hub refused a message; dropped',
      );
    }
    this.forget(id, generation);
  }

  private forget(id: number, generation: number): void {
    this.store.remove(id);
    this.retries.delete(id);
    if (generation === this.generation) this.inFlight.delete(id);
    if (this.store.size === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const waiter of waiters) waiter();
    }
    this.pump();
  }

  private retryLater(id: number, message: OutboxMessage, generation: number, why: string): void {
    // A detach already returned this message to the queue; the next attach resends it.
    if (generation !== this.generation) return;
    this.inFlight.delete(id);
    const attempts = (this.retries.get(id)?.attempts ?? 0) + 1;
    const waitMs = backoffDelay(this.options.retry, attempts - 1);
    this.retries.set(id, { attempts, notBefore: Date.now() + waitMs });
    this.logger.debug(
      { event: message.event, executionId: message.payload.executionId, attempts, waitMs, why },
      'message not acked; will resend',
    );
    this.pump();
  }
}
