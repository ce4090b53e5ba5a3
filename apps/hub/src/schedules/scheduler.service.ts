import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { AppError } from '../common/errors/app-error';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { RunsService } from '../executions/runs.service';
import { applyOverrides } from '../jobs/job-definition';
import { Run } from '../executions/run.entity';
import { Job } from '../jobs/job.entity';
import { CLOCK, type Clock } from './clock';
import { type FireTime, fireTimeAfter, type OccurrencePlan, planOccurrence } from './fire-times';
import { compileSchedule } from './schedule';
import { ScheduleChanges } from './schedule-changes';
import { SchedulerState } from './scheduler-state';

/** The longest the leader sleeps: jobs changed through another hub are seen within this. */
const POLL_MS = 1_000;
/** Due jobs read per query, and fired at once (each a few statements on its own connection). */
const DUE_BATCH = 100;
const PARALLEL_FIRES = 8;
/** Occurrences one job fires in one pass, so a job catching up cannot hold the others back. */
const OCCURRENCES_PER_PASS = 10;

/**
 * Fires jobs' schedules. One hub leads, by a lease in the database (`scheduler_state`); the
 * others wait to take over. Exactly-once does not rest on the lease: each occurrence is claimed
 * by a guarded update of the job's `next_fire_at`, and a run is unique per (job, scheduledAt),
 * so a paused leader that wakes after losing its lease, or a restart after a crash between the
 * run and the claim, cannot fire an occurrence twice.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SchedulerService.name);
  readonly hubId = `${os.hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  private leading = false;
  /** performance.now() until which this hub's lease surely holds (measured from before the renewal was sent). */
  private leaseValidUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private tickAgain = false;
  private stopped = false;

  constructor(
    private readonly em: EntityManager,
    private readonly runs: RunsService,
    private readonly state: SchedulerState,
    private readonly changes: ScheduleChanges,
    private readonly registry: SchedulerRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  private get leaseMs(): number {
    return this.config.schedulerLeaseSeconds * 1000;
  }

  /**
   * How late an occurrence may start and still count as on time: a failover takes up to 4/3 of
   * the lease (see `renewLease`), so anything later means no hub was firing, and `missed` applies.
   */
  get lateGraceMs(): number {
    return 2 * this.leaseMs + POLL_MS;
  }

  onApplicationBootstrap(): void {
    // Renewed three times per lease: two renewals may fail before the lease runs out.
    this.registry.addInterval('scheduler-lease', setInterval(() => void this.renewLease(), this.leaseMs / 3));
    this.changes.onChange(() => this.wake());
    void this.renewLease();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading) await this.state.releaseLease(this.hubId).catch(() => undefined);
  }

  isLeading(): boolean {
    return this.leading && performance.now() < this.leaseValidUntil;
  }

  wake(): void {
    if (!this.isLeading() || this.stopped) return;
    this.sleep(0);
  }

  private async renewLease(): Promise<void> {
    if (this.stopped) return;
    const sentAt = performance.now();
    let held: boolean;
    try {
      held = await this.state.holdLease(this.hubId, this.config.schedulerLeaseSeconds);
    } catch (error) {
      // Unknown: the lease this hub holds stays good until it runs out (isLeading checks).
      this.logger.warn(`scheduler lease: ${(error as Error).message}`);
      return;
    }
    if (held) {
      this.leaseValidUntil = sentAt + this.leaseMs;
      if (this.leading) return;
      this.leading = true;
      this.logger.log(`hub ${this.hubId} leads the scheduler`);
      this.wake();
    } else if (this.leading) {
      // Another hub took over: stop at once.
      this.leading = false;
      this.leaseValidUntil = 0;
      this.logger.warn(`hub ${this.hubId} no longer leads the scheduler`);
    }
  }

  private sleep(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    let nextMs = POLL_MS;
    try {
      let failed = 0;
      do {
        this.tickAgain = false;
        if (!this.isLeading()) return;
        failed += await this.fireDue();
      } while (this.tickAgain);
      // A job that failed is still due: it is tried again after a poll interval, not in a tight loop.
      if (failed === 0) nextMs = await this.msToNextDue();
    } catch (error) {
      this.logger.warn(`scheduler tick failed: ${(error as Error).message}`);
    } finally {
      this.ticking = false;
      if (this.isLeading() && !this.stopped) this.sleep(nextMs);
    }
  }

  /**
   * Every job whose next occurrence is due, in batches, a few at a time. Returns how many jobs
   * failed; they are left out of the rest of this pass, so they cannot hold the others back.
   */
  private async fireDue(): Promise<number> {
    const failed: string[] = [];
    for (;;) {
      const now = this.clock.now();
      const ids = await this.em.fork().execute<{ id: string }[]>(
        `select id from jobs
          where next_due_at <= ? and enabled and not paused
            and not (select paused from scheduler_state where id = 1)
            and id not in (select jsonb_array_elements_text(?::jsonb)::uuid)
          order by next_due_at limit ${DUE_BATCH}`,
        [new Date(now), JSON.stringify(failed)],
      );
      if (ids.length === 0) return failed.length;
      const jobs = await this.em.fork().find(Job, { id: { $in: ids.map((row) => row.id) } });
      let index = 0;
      const worker = async (): Promise<void> => {
        while (index < jobs.length && this.isLeading()) {
          const job = jobs[index++]!;
          if (!(await this.fireJob(job))) failed.push(job.id);
        }
      };
      await Promise.all(Array.from({ length: PARALLEL_FIRES }, worker));
      if (ids.length < DUE_BATCH || !this.isLeading()) return failed.length;
    }
  }

  private async msToNextDue(): Promise<number> {
    const [row] = await this.em.fork().execute<{ at: Date | null }[]>(
      `select min(next_due_at) as at from jobs where next_due_at is not null and enabled and not paused`,
    );
    if (!row?.at) return POLL_MS;
    return Math.max(0, Math.min(POLL_MS, new Date(row.at).getTime() - this.clock.now()));
  }

  /** One job's due occurrences, each claimed on its own, oldest first. False when it failed. */
  private async fireJob(job: Job): Promise<boolean> {
    try {
      const schedule = compileSchedule(job.schedule!);
      for (let pass = 0; pass < OCCURRENCES_PER_PASS && job.nextFireAt && job.nextDueAt; pass++) {
        const now = this.clock.now();
        if (job.nextDueAt.getTime() > now || !this.isLeading()) return true;
        const due = job.nextFireAt.getTime();
        const plan = planOccurrence(job, schedule, due, job.nextDueAt.getTime(), now, this.lateGraceMs);
        this.logSkipped(job, plan);
        if (plan.fire !== null) await this.start(job, plan.fire);
        if (!(await this.claim(job.id, due, plan.next))) return true;
        job.nextFireAt = plan.next.nextFireAt;
        job.nextDueAt = plan.next.nextDueAt;
      }
      return true;
    } catch (error) {
      this.logger.error(`job ${job.id} (${job.name}): scheduled occurrence failed: ${(error as Error).message}`);
      return false;
    }
  }

  /** Moves the job on from `due`; false when another hub (or an edit) already did. */
  private async claim(jobId: string, due: number, next: FireTime): Promise<boolean> {
    const claimed = await this.em
      .fork()
      .execute<{ id: string }[]>(`update jobs set next_fire_at = ?, next_due_at = ? where id = ? and next_fire_at = ? returning id`, [
        next.nextFireAt,
        next.nextDueAt,
        jobId,
        new Date(due),
      ]);
    return claimed.length === 1;
  }

  /** One run for the occurrence, unless `overlap` says otherwise. */
  private async start(job: Job, scheduledAt: number): Promise<void> {
    if (job.overlap !== 'allow') {
      const open = await this.em.fork().find(Run, { jobId: job.id, status: { $in: ['pending', 'running'] } }, { fields: ['id'] });
      if (open.length > 0 && job.overlap === 'skip') {
        const at = new Date(scheduledAt).toISOString();
        this.logger.log(`job ${job.id} (${job.name}): occurrence ${at} skipped, run ${open[0]!.id} is still going (overlap: skip)`);
        return;
      }
      for (const run of open) await this.cancelReplaced(run.id, job);
    }
    try {
      await this.runs.createScheduled(applyOverrides(job, {}), {
        requestedBy: job.scheduleSetBy,
        trigger: 'schedule',
        jobId: job.id,
        scheduledAt: new Date(scheduledAt),
      });
    } catch (error) {
      // Fired already: by another hub, or by this one before a crash between the run and the claim.
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
    }
  }

  private async cancelReplaced(runId: string, job: Job): Promise<void> {
    try {
      await this.runs.cancel(runId, job.scheduleSetBy);
    } catch (error) {
      // It ended on its own meanwhile.
      if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
    }
  }

  private logSkipped(job: Job, plan: OccurrencePlan): void {
    if (!plan.skipped) return;
    const { from, until, why } = plan.skipped;
    const what = why === 'missed' ? `missed (missed: ${job.missed})` : `not started within startingDeadlineSeconds (${job.startingDeadlineSeconds})`;
    const range = `${new Date(from).toISOString()} to ${new Date(until).toISOString()}`;
    this.logger.warn(`job ${job.id} (${job.name}): occurrences ${range} ${what}`);
  }

  /** After a hub-wide resume: every job fires from its next occurrence after now; nothing that fell in the pause runs. */
  async rescheduleAll(): Promise<void> {
    const em = this.em.fork();
    const jobs = await em.find(Job, { schedule: { $ne: null }, enabled: true, paused: false });
    const now = this.clock.now();
    for (const job of jobs) Object.assign(job, fireTimeAfter(job.id, compileSchedule(job.schedule!), now));
    await em.flush();
    this.wake();
  }
}
