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

/** What the outbox needs to know of a stored message without reading it back. */
export interface OutboxEntry {
  event: OutboxMessage['event'];
  executionId: string;
}

/**
 * Where messages wait until the hub acknowledges them: the disk spool (`spool/spool-store.ts`),
 * which survives an agent restart.
 */
export interface OutboxStore {
  /** Keeps `message`; ids grow in the order messages were added. */
  add(message: OutboxMessage): number;
  remove(id: number): void;
  /** Messages not yet removed, oldest first. */
  entries(): Iterable<[number, OutboxEntry]>;
  /** The whole message, read back when it is sent. */
  load(id: number): OutboxMessage;
  readonly size: number;
  /** At its bound: output waits until acks make room; `started` and results are still taken. */
  readonly full: boolean;
  /** A result not yet synced to disk: it is not sent before it is, so the hub never knows a result the agent could lose. */
  awaitingSync(id: number): boolean;
  /** Called by the store once results it held are synced. */
  onSynced: () => void;
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
 * harmless). A `finished` report waits until every earlier output chunk of its execution is
 * acked, so the hub never sees an execution end before it has all of its output. It does not wait
 * for the `started` ahead of it: the hub stores a result that overtakes its start report (the
 * result carries the start time and pid), which spares a short command a round trip.
 */
export class Outbox {
  private transport: OutboxTransport | null = null;
  /** Bumped on every attach/detach, so a failure reported by an old connection is ignored. */
  private generation = 0;
  private readonly inFlight = new Set<number>();
  private readonly retries = new Map<number, { attempts: number; notBefore: number }>();
  private retryTimer: NodeJS.Timeout | undefined;
  private drainWaiters: Array<() => void> = [];
  /**
   * The message `enqueue` is adding, while it pumps: its first send takes it from here instead of
   * reading it back from the store and validating it again (the store's copy is for resends).
   */
  private fresh: { id: number; message: OutboxMessage } | null = null;
  /** New results waiting for their sync while connected: sent from here too, once synced. */
  private readonly freshResults = new Map<number, OutboxMessage>();
  private roomWaiters: Array<() => void> = [];

  constructor(
    private readonly store: OutboxStore,
    private readonly logger: Logger,
    private readonly options: OutboxOptions = DEFAULT_OUTBOX_OPTIONS,
  ) {
    store.onSynced = () => this.pump();
  }

  get size(): number {
    return this.store.size;
  }

  enqueue(message: OutboxMessage): void {
    const id = this.store.add(message);
    this.fresh = { id, message };
    try {
      this.pump();
    } finally {
      this.fresh = null;
    }
    if (this.transport !== null && this.store.awaitingSync(id)) this.freshResults.set(id, message);
  }

  /**
   * Null while the store has room; otherwise resolves once acks made some. Output waits on it,
   * so a command that floods faster than the hub takes its output is paused by its pipe instead
   * of growing the spool without bound.
   */
  room(): Promise<void> | null {
    if (!this.store.full) return null;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Executions whose final result waits here for the hub's ack. */
  heldResults(): string[] {
    const ids: string[] = [];
    for (const [, entry] of this.store.entries()) {
      if (entry.event === AgentToHubEvent.ExecutionFinished) ids.push(entry.executionId);
    }
    return ids;
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
    this.freshResults.clear();
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
    /** Executions with output ahead in the queue: their `finished` must wait. */
    const outputAhead = new Set<string>();
    for (const [id, entry] of this.store.entries()) {
      if (this.inFlight.size >= this.options.window) break;
      const { executionId } = entry;
      const blocked =
        entry.event === AgentToHubEvent.ExecutionFinished && (outputAhead.has(executionId) || this.store.awaitingSync(id));
      if (entry.event === AgentToHubEvent.ExecutionOutput) outputAhead.add(executionId);
      if (blocked || this.inFlight.has(id)) continue;
      const notBefore = this.retries.get(id)?.notBefore ?? 0;
      if (notBefore > now) {
        nextRetryAt = Math.min(nextRetryAt, notBefore);
        continue;
      }
      this.send(transport, id, entry);
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

  private send(transport: OutboxTransport, id: number, entry: OutboxEntry): void {
    const generation = this.generation;
    let message: OutboxMessage;
    try {
      message = this.fresh?.id === id ? this.fresh.message : (this.freshResults.get(id) ?? this.store.load(id));
      this.freshResults.delete(id);
    } catch (error) {
      // Unreadable now means unreadable on every retry: holding it would block its execution's result.
      this.logger.error({ ...entry, error: errorMessage(error) }, 'cannot read a spooled message; dropped');
      this.forget(id, generation);
      return;
    }
    this.inFlight.add(id);
    transport(message.event, message.payload).then(
      (ack) => this.settle(id, entry, generation, ack),
      (error: unknown) => this.retryLater(id, entry, generation, errorMessage(error)),
    );
  }

  private settle(id: number, entry: OutboxEntry, generation: number, ack: unknown): void {
    const parsed = ackSchema.safeParse(ack);
    if (!parsed.success) {
      this.retryLater(id, entry, generation, 'malformed ack from hub');
      return;
    }
    if (!parsed.data.ok) {
      const { code, message: hubMessage } = parsed.data.error;
      if (!PERMANENT_REFUSALS.has(code)) {
        this.logger.warn({ ...entry, code, hubMessage }, 'hub could not take a message; will resend');
        this.retryLater(id, entry, generation, code);
        return;
      }
      this.logger.warn({ ...entry, code, hubMessage }, 'hub refused a message; dropped');
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
    if (this.roomWaiters.length > 0 && !this.store.full) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const waiter of waiters) waiter();
    }
    this.pump();
  }

  private retryLater(id: number, entry: OutboxEntry, generation: number, why: string): void {
    // A detach already returned this message to the queue; the next attach resends it.
    if (generation !== this.generation) return;
    this.inFlight.delete(id);
    const attempts = (this.retries.get(id)?.attempts ?? 0) + 1;
    const waitMs = backoffDelay(this.options.retry, attempts - 1);
    this.retries.set(id, { attempts, notBefore: Date.now() + waitMs });
    this.logger.debug({ ...entry, attempts, waitMs, why }, 'message not acked; will resend');
    this.pump();
  }
}
