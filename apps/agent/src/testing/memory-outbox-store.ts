import type { OutboxEntry, OutboxMessage, OutboxStore } from '../connection/outbox';

/** An outbox store in memory, for tests of the outbox's own rules; `limit` messages make it full. */
export class MemoryOutboxStore implements OutboxStore {
  private readonly messages = new Map<number, OutboxMessage>();
  private nextId = 0;

  constructor(private readonly limit = Infinity) {}

  add(message: OutboxMessage): number {
    const id = this.nextId++;
    this.messages.set(id, message);
    return id;
  }

  remove(id: number): void {
    this.messages.delete(id);
  }

  *entries(): Iterable<[number, OutboxEntry]> {
    for (const [id, message] of this.messages) yield [id, { event: message.event, executionId: message.payload.executionId }];
  }

  load(id: number): OutboxMessage {
    const message = this.messages.get(id);
    if (message === undefined) throw new Error(`no message ${id}`);
    return message;
  }

  get size(): number {
    return this.messages.size;
  }

  get full(): boolean {
    return this.messages.size >= this.limit;
  }

  /** Ids of results to treat as not yet synced; `sync()` releases them. */
  readonly unsyncedIds = new Set<number>();
  onSynced: () => void = () => undefined;

  awaitingSync(id: number): boolean {
    return this.unsyncedIds.has(id);
  }

  sync(): void {
    this.unsyncedIds.clear();
    this.onSynced();
  }
}
