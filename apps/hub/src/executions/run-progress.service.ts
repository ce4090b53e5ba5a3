import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { batchLoader } from '../common/batching/batch-loader';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { idLockedInOrder } from '../common/database/locked-in-order';
import { PreparedStatement } from '../common/database/prepared-statement';
import { ExecutionDispatcher } from './execution-dispatcher';
import { statusesLeadingTo } from './execution-state';
import { RunEndings, runWithExecutionsJson, type StoredRun } from './run-endings';
import { FAILED_STATUSES, type FailedAttempt, planRunStep, type RunStep } from './run-step';
import { Run } from './run.entity';

/** Catches what a missed wake-up left behind: retries now due, and runs a crashed hub did not settle. */
const SWEEP_MS = 2_000;

const list = (statuses: readonly string[]) => statuses.map((s) => `'${s}'`).join(', ');
const OPEN = list(['pending', 'queued', 'dispatched', 'running']);
const IN_FLIGHT = list(['queued', 'dispatched', 'running']);
const UNDISPATCHED = list(statusesLeadingTo('cancel_undelivered', 'canceled'));

/** Only these runs need the locked step; the others settle in one statement. */
const ORCHESTRATED = `(r.concurrency is not null or r.max_failures is not null or coalesce((r.retries->>'max')::int, 0) > 0)`;

/** Succeeded when every target's last attempt succeeded (DESIGN.md §4). */
const SETTLE = `
  update runs r set finished_at = now(), status = case when exists (
      select 1 from executions e where e.run_id = r.id and e.status <> 'succeeded'
         and not exists (select 1 from executions n where n.run_id = e.run_id and n.agent_id = e.agent_id and n.attempt > e.attempt)
    ) then 'failed' else 'succeeded' end
   where ${idLockedInOrder('runs', `id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) and status in ('pending', 'running')`)}
     and r.status in ('pending', 'running')
     and not exists (select 1 from executions e where e.run_id = r.id and e.status in (${OPEN}))`;

/**
 * Settles the runs named (`?`, JSON ids) that need no locked step, in one statement; rows tell
 * which ended (with the run as it ended, for those named again in the second `?`: the ones awaited
 * here) and which need the step.
 */
const SETTLE_PLAIN_RUNS = new PreparedStatement(
  'settle-plain-runs',
  `with settled as (${SETTLE} and not ${ORCHESTRATED}
     returning r.id, case when r.id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) then ${runWithExecutionsJson('r')} end as stored)
   select id, true as ended, stored from settled
   union all
   select r.id, false, null from runs r where r.id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) and ${ORCHESTRATED}`,
);

/**
 * A run's state follows from its executions. After any of them ends, `settle` moves the run on:
 * retries are added, maxFailures stops the rest, concurrency releases pending executions, and
 * the run ends once no attempt is open. All of it under the run's row lock, so hubs and
 * concurrent reports agree; the decisions themselves are the pure `planRunStep`.
 */
@Injectable()
export class RunProgressService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RunProgressService.name);
  private sweeping = false;

  constructor(
    private readonly em: EntityManager,
    private readonly dispatcher: ExecutionDispatcher,
    private readonly scheduler: SchedulerRegistry,
    private readonly endings: RunEndings,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval('run-progress', setInterval(() => void this.sweep(), SWEEP_MS));
  }

  /**
   * Called after an execution of the run ended, after the run was created, and by the sweep.
   * Runs without concurrency, maxFailures or retries, as most are, settle together in one
   * statement with the others that came due meanwhile.
   */
  async settle(runId: string): Promise<void> {
    if (await this.settleLoader.load(runId)) await this.step(runId);
  }

  /**
   * Resolves to whether the run needs the locked step; the runs it ended are announced, with
   * the run as it ended to those waiting for it here.
   */
  private readonly settleLoader = batchLoader<string, boolean>(async (runIds) => {
    const ids = JSON.stringify(runIds);
    const awaited = JSON.stringify(runIds.filter((id) => this.endings.awaited(id)));
    const rows = await SETTLE_PLAIN_RUNS.run<{ id: string; ended: boolean; stored: StoredRun | null }>(this.em.fork(), [ids, awaited, ids]);
    const orchestrated = new Set<string>();
    for (const row of rows) {
      if (row.ended) this.endings.notify(row.id, row.stored ?? undefined);
      else orchestrated.add(row.id);
    }
    return runIds.map((id) => orchestrated.has(id));
  });

  private async step(runId: string): Promise<void> {
    const outcome = await this.em.fork().transactional(async (tx) => {
      const run = await tx.findOne(Run, { id: runId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!run || (run.status !== 'pending' && run.status !== 'running')) return null;
      const step = planRunStep(run, await this.stateOf(tx, runId));
      await this.addRetries(tx, run, step);
      if (step.stop) {
        await tx.execute(
          `update executions set status = 'canceled', finished_at = now(), reason = ?
            where ${idLockedInOrder('executions', `run_id = ? and status in (${UNDISPATCHED})`)}
              and status in (${UNDISPATCHED})`,
          [`max_failures: ${step.stop.failures} target(s) failed, maxFailures is ${step.stop.maxFailures}`, runId],
        );
      }
      const released = step.slots === 0 ? [] : await this.release(tx, run, step.slots);
      const ended = await tx.execute(`${SETTLE} returning r.id`, [JSON.stringify([runId])]);
      return { released, step, ended: ended.length > 0 };
    });
    if (!outcome) return;
    if (outcome.ended) this.endings.notify(runId);
    this.dispatcher.wake(runId, outcome.released);
    for (const retry of outcome.step.retries) this.wakeAt(runId, retry.notBefore);
  }

  private async stateOf(tx: EntityManager, runId: string) {
    const [counts] = await tx.execute<{ in_flight: string }[]>(
      `select count(*) as in_flight from executions where run_id = ? and status in (${IN_FLIGHT})`,
      [runId],
    );
    const failed = await tx.execute<{ agent_id: string; attempt: number; status: FailedAttempt['status']; finished_at: Date }[]>(
      `select e.agent_id, e.attempt, e.status, e.finished_at from executions e
        where e.run_id = ? and e.status in (${list(FAILED_STATUSES)})
          and not exists (select 1 from executions n where n.run_id = e.run_id and n.agent_id = e.agent_id and n.attempt > e.attempt)`,
      [runId],
    );
    return {
      inFlight: Number(counts?.in_flight ?? 0),
      failed: failed.map((row) => ({ agentId: row.agent_id, attempt: row.attempt, status: row.status, finishedAt: new Date(row.finished_at) })),
    };
  }

  /** A retry is a new execution row, `pending` until its backoff has passed. Unique per attempt: added once. */
  private async addRetries(tx: EntityManager, run: Run, step: RunStep): Promise<void> {
    if (step.retries.length === 0) return;
    await tx.execute(
      `insert into executions (id, run_id, agent_id, attempt, status, created_at, not_before, deliver_by)
       select gen_random_uuid(), ?, r."agentId", r.attempt, 'pending', now(), r."notBefore", r."notBefore" + make_interval(secs => ?)
         from jsonb_to_recordset(?::jsonb) as r("agentId" uuid, attempt integer, "notBefore" timestamptz)
       on conflict (run_id, agent_id, attempt) do nothing`,
      [run.id, this.deliverySeconds(run), JSON.stringify(step.retries)],
    );
  }

  /**
   * pending → queued for up to `slots` executions whose backoff has passed (all of them when null),
   * online agents first so a cap is not spent waiting on a host that is away. Their delivery
   * deadline starts now: time spent waiting for the run's own slots does not count against them.
   */
  private async release(tx: EntityManager, run: Run, slots: number | null): Promise<string[]> {
    const rows = await tx.execute<{ agent_id: string }[]>(
      `update executions set status = 'queued', deliver_by = now() + make_interval(secs => ?)
        where status in (${list(statusesLeadingTo('released', 'queued'))}) and id in (
          select e.id from executions e join agents a on a.id = e.agent_id
           where e.run_id = ? and e.status = 'pending' and (e.not_before is null or e.not_before <= now())
           order by (a.status = 'online') desc, e.created_at, e.id
           limit ?)
        returning agent_id`,
      [this.deliverySeconds(run), run.id, slots],
    );
    return rows.map((row) => row.agent_id);
  }

  private deliverySeconds(run: Run): number {
    return run.deliveryTimeoutSeconds ?? this.config.deliveryTimeoutSeconds;
  }

  /** Settles again when a retry's backoff ends; the sweep is the fallback on restarts and other hubs. */
  private wakeAt(runId: string, at: Date): void {
    const name = `run-retry:${runId}:${at.getTime()}`;
    if (this.scheduler.doesExist('timeout', name)) return;
    const timer = setTimeout(
      () => {
        this.scheduler.deleteTimeout(name);
        this.settle(runId).catch((error: Error) => this.logger.warn(`run ${runId}: ${error.message}`));
      },
      Math.max(0, at.getTime() - Date.now()),
    );
    this.scheduler.addTimeout(name, timer);
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const due = await this.em.fork().execute<{ id: string }[]>(
        `select r.id from runs r
          where r.status in ('pending', 'running') and (
            exists (select 1 from executions e
                     where e.run_id = r.id and e.status = 'pending' and (e.not_before is null or e.not_before <= now()))
            or not exists (select 1 from executions e where e.run_id = r.id and e.status in (${OPEN})))`,
      );
      for (const run of due) await this.settle(run.id);
    } catch (error) {
      this.logger.warn(`run sweep failed: ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }
}
