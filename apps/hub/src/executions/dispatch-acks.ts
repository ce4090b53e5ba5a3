import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { lockedInOrder } from '../common/database/locked-in-order';
import { loggableError } from '../logging/loggable-error';
import { runsToRunning } from './execution-locks';
import { statusesLeadingTo } from './execution-state';

/**
 * How long an acked dispatch waits before it is written: most commands report their start
 * sooner, and that report records the dispatch too, so the write is left out.
 */
const DISPATCH_ACK_WRITE_DELAY_MS = 20;
const DISPATCH_ACKED_FROM = statusesLeadingTo('dispatch_acked', 'dispatched');
const IN_DISPATCH_ACKED_FROM = DISPATCH_ACKED_FROM.map(() => '?').join(', ');

/**
 * Acked dispatches (`queued` → `dispatched`), written together a moment after the ack. Nothing
 * waits for the write: until it is done the execution is still `queued`, and if it never is
 * (a crash), the dispatch is sent again and the agent acks the id it already holds without
 * running it twice. Not through RunProgressService: that service wakes the dispatcher, which
 * uses this.
 */
@Injectable()
export class DispatchAcks implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DispatchAcks.name);
  /** Acked, waiting for the next write: by execution id, the agent that acked and when. */
  private readonly waiting = new Map<string, { agentId: string; at: Date }>();
  /** In a write not yet done. */
  private readonly writing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly writes = new Set<Promise<void>>();
  private overtaken: (agentId: string, executionIds: string[]) => void = () => undefined;

  constructor(private readonly em: EntityManager) {}

  acked(agentId: string, executionId: string): void {
    this.waiting.set(executionId, { agentId, at: new Date() });
    this.timer ??= setTimeout(() => this.write(), DISPATCH_ACK_WRITE_DELAY_MS);
  }

  /**
   * The agent reported on the execution: that report records the dispatch, with the time of the
   * ack returned here (null when the ack is written or being written already).
   */
  reported(agentId: string, executionId: string): Date | null {
    const ack = this.waiting.get(executionId);
    if (ack?.agentId !== agentId) return null;
    this.waiting.delete(executionId);
    return ack.at;
  }

  /**
   * Acks whose write found the execution no longer waiting for delivery: started, ended, or
   * canceled while the ack was on its way.
   */
  onOvertaken(listener: (agentId: string, executionIds: string[]) => void): void {
    this.overtaken = listener;
  }

  /** Acked, not yet written: still `queued` in the database, yet not to be sent again. */
  has(executionId: string): boolean {
    return this.waiting.has(executionId) || this.writing.has(executionId);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.write();
    await Promise.all(this.writes);
  }

  private write(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.size === 0) return;
    const acks = [...this.waiting].map(([id, { agentId, at }]) => ({ id, agentId, at }));
    this.waiting.clear();
    for (const { id } of acks) this.writing.add(id);
    const write = this.em
      .fork()
      .execute<{ id: string }[]>(
        // dispatched_at is the ack's time, not the write's: the reconciler compares it with a
        // reconnect's, to tell what a restarted agent lost.
        `with ack as (select * from jsonb_to_recordset(?::jsonb) as a(id uuid, at timestamptz)),
         ${lockedInOrder('executions', 'ack', 't.id = s.id')},
         dispatched as (
           update executions e set status = 'dispatched', dispatched_at = ack.at
             from ack, locked l
            where e.id = ack.id and e.id = l.id and e.status in (${IN_DISPATCH_ACKED_FROM})
            returning e.id, e.run_id),
         run as (${runsToRunning('dispatched')})
         select id from dispatched`,
        [JSON.stringify(acks), ...DISPATCH_ACKED_FROM],
      )
      .then(
        (rows) => this.reportOvertaken(acks, new Set(rows.map((row) => row.id))),
        // Left `queued`: sent again by the next dispatch round, and acked again.
        (error: unknown) => this.logger.warn({ ...loggableError(error), executions: acks.length }, 'could not record acked dispatches'),
      )
      .finally(() => {
        for (const { id } of acks) this.writing.delete(id);
        this.writes.delete(write);
      });
    this.writes.add(write);
  }

  private reportOvertaken(acks: { id: string; agentId: string }[], dispatched: Set<string>): void {
    const byAgent = new Map<string, string[]>();
    for (const { id, agentId } of acks) {
      if (dispatched.has(id)) continue;
      const ids = byAgent.get(agentId);
      if (ids) ids.push(id);
      else byAgent.set(agentId, [id]);
    }
    for (const [agentId, ids] of byAgent) this.overtaken(agentId, ids);
  }
}
