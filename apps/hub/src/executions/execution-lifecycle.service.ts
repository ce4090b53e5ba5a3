import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from '@mikro-orm/postgresql';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { idLockedInOrder } from '../common/database/locked-in-order';
import { statusesLeadingTo } from './execution-state';
import { RunProgressService } from './run-progress.service';

const SWEEP_MS = 1_000;

/**
 * Both sweeps lock in id order, like the report batches they race (see common/database/locked-in-order.ts).
 * Expired a second past the deadline: a dispatch acked just before it is still `queued` while its
 * ack waits to be written (DISPATCH_ACK_WRITE_DELAY_MS), and must not be expired meanwhile.
 */
const EXPIRED = `status in (${quoted(statusesLeadingTo('delivery_expired', 'expired'))}) and deliver_by < now() - interval '1 second'`;
const LOSABLE = quoted(statusesLeadingTo('agent_lost', 'lost'));
/** Held by an agent that has stayed away longer than the lease (`?`, seconds). */
const LOST = `status in (${LOSABLE}) and exists (
  select 1 from agents a where a.id = executions.agent_id and a.status = 'offline'
     and coalesce(a.last_seen_at, executions.dispatched_at, executions.created_at) < now() - make_interval(secs => ?))`;

/**
 * The hub's own clock on executions: a queued one past its delivery deadline is `expired`; a
 * dispatched or running one whose agent has stayed away longer than the lease is `lost`, so
 * nothing stays `running` forever. Guarded updates: several hubs may sweep at once.
 */
@Injectable()
export class ExecutionLifecycleService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ExecutionLifecycleService.name);
  private sweeping = false;

  constructor(
    private readonly em: EntityManager,
    private readonly runs: RunProgressService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval('execution-lifecycle', setInterval(() => void this.sweep(), SWEEP_MS));
  }

  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const expired = await this.em.fork().execute<{ run_id: string }[]>(
        `update executions set status = 'expired', finished_at = now(),
                reason = 'not delivered by ' || to_char(deliver_by at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
          where ${idLockedInOrder('executions', EXPIRED)} and ${EXPIRED}
          returning run_id`,
      );
      const lost = await this.em.fork().execute<{ run_id: string }[]>(
        `update executions set status = 'lost', finished_at = now(), reason = 'agent_lost'
          where ${idLockedInOrder('executions', LOST)} and status in (${LOSABLE})
          returning run_id`,
        [this.config.executionLeaseSeconds],
      );
      if (expired.length > 0) this.logger.log(`${expired.length} execution(s) expired undelivered`);
      if (lost.length > 0) this.logger.warn(`${lost.length} execution(s) lost: their agents stayed away past the lease`);
      for (const runId of new Set([...expired, ...lost].map((r) => r.run_id))) await this.runs.settle(runId);
    } catch (error) {
      this.logger.warn(`execution sweep failed: ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }
}

function quoted(statuses: string[]): string {
  return statuses.map((s) => `'${s}'`).join(', ');
}
