import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { Job } from '../jobs/job.entity';
import { SchedulerService } from './scheduler.service';
import { SchedulerState } from './scheduler-state';

/** Next fires listed by `GET /api/v1/scheduler`. */
const NEXT_FIRES = 10;

/** The hub-wide view and switch of the scheduler: running or paused, who leads, what fires next. */
@Injectable()
export class SchedulerStatusService {
  constructor(
    private readonly em: EntityManager,
    private readonly state: SchedulerState,
    private readonly scheduler: SchedulerService,
  ) {}

  async get() {
    const state = await this.state.read();
    const next = await this.em.fork().find(
      Job,
      { nextDueAt: { $ne: null }, enabled: true, paused: false },
      { orderBy: { nextDueAt: 'asc', id: 'asc' }, limit: NEXT_FIRES, fields: ['id', 'name', 'nextFireAt', 'nextDueAt'] },
    );
    return {
      status: state.paused ? ('paused' as const) : ('running' as const),
      pausedAt: state.pausedAt?.toISOString() ?? null,
      pausedBy: state.pausedBy,
      leader: state.leaderId ? { hubId: state.leaderId, since: state.leaderSince?.toISOString() ?? null, leaseUntil: state.leaseUntil!.toISOString() } : null,
      thisHub: { hubId: this.scheduler.hubId, leading: this.scheduler.isLeading() },
      nextFires: next.map((job) => ({ jobId: job.id, name: job.name, scheduledAt: job.nextFireAt!.toISOString(), startsAt: job.nextDueAt!.toISOString() })),
    };
  }

  /** Every hub on this database stops firing at once; nothing that falls in the pause runs later. */
  async pause(userId: string) {
    await this.state.setPaused(true, userId);
    return this.get();
  }

  async resume(userId: string) {
    if (await this.state.setPaused(false, userId)) await this.scheduler.rescheduleAll();
    return this.get();
  }
}
