import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { batchLoader } from '../common/batching/batch-loader';
import type { AuditEventInput } from './audit-event';
import { AuditEvent } from './audit-event.entity';
import { loggableError } from '../logging/loggable-error';

/**
 * Writes audit events off the request path: the response is already sent when an event is
 * handed in, and events arriving together (a burst of runs) share one multi-row INSERT.
 */
@Injectable()
export class AuditWriter implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditWriter.name);
  private readonly inFlight = new Set<Promise<void>>();
  private readonly batches = batchLoader<AuditEventInput, void>(async (events) => {
    await this.em.fork().insertMany(AuditEvent, events.map((event) => ({ id: randomUUID(), ...event })));
    return events.map(() => undefined);
  });

  constructor(private readonly em: EntityManager) {}

  record(event: AuditEventInput): void {
    const write = this.batches
      .load(event)
      .catch((error: unknown) => {
        // The action itself already happened; losing its record is logged loudly, never thrown at the caller.
        this.logger.error({ ...loggableError(error), action: event.action, requestId: event.requestId }, 'could not write an audit event');
      })
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  /** Requests answered just before a SIGTERM still get their record, before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}
