import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { AgentsService } from '../agents/agents.service';
import { SecretBox } from '../common/crypto/secret-box';
import { AppError } from '../common/errors/app-error';
import type { Page } from '../common/validation/common-schemas';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { idLockedInOrder } from '../common/database/locked-in-order';
import { PreparedStatement } from '../common/database/prepared-statement';
import { readOnlyEntity } from '../common/database/read-only-entity';
import { Execution } from './execution.entity';
import { ExecutionDispatcher, type PendingRow } from './execution-dispatcher';
import { isFinalExecutionStatus, statusesLeadingTo } from './execution-state';
import { toRunSummary, toRunView } from './execution-views';
import { ExecutionsService } from './executions.service';
import { RunEndings, runWithExecutionsJson, type StoredRun } from './run-endings';
import { RunProgressService } from './run-progress.service';
import { type RunRequest, toRunDefinition } from './run-request.schema';
import { RunTargetsService } from './run-targets.service';
import { Run, type RunDefinition, type RunTrigger } from './run.entity';

/** Where a run came from: it records who asked, and which job or run it repeats. */
export interface RunOrigin {
  requestedBy: string | null;
  trigger: RunTrigger;
  jobId?: string | null;
  rerunOf?: string | null;
  /** The occurrence a scheduled run stands for: one run per job and time (a unique index). */
  scheduledAt?: Date | null;
}

/** How often a waiting `GET /api/v1/runs/:id?wait=` re-reads the run, for ends it was not told of. */
const WAIT_REREAD_MS = 1_000;

export const RUN_SORT_FIELDS = ['createdAt', 'finishedAt'] as const;

export interface RunListQuery {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  sort: (typeof RUN_SORT_FIELDS)[number];
  status?: Run['status'][] | undefined;
  jobId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/**
 * `RunsService.insert`'s statement, prepared: PostgreSQL planned it anew for every run. The target
 * ids travel as one JSON document (a bound array would be expanded into a list); they are unique
 * (RunTargetsService), so the count tells whether all of them are live.
 */
const INSERT_RUN = new PreparedStatement(
  'insert-run',
  `with target as (
     select a.id as agent_id from agents a
      where a.id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) and a.revoked_at is null),
   run as (
     insert into runs (id, status, trigger, spec, env, cwd, timeout_seconds, delivery_timeout_seconds, target, concurrency,
                       max_failures, retries, retry_lost, job_id, rerun_of, scheduled_at, reason, requested_by, canceled_by,
                       created_at, finished_at)
     select ?::uuid, ?::text, ?::text, ?::jsonb, ?::jsonb, ?::text, ?::integer, ?::integer, ?::jsonb, ?::integer,
            ?::integer, ?::jsonb, ?::boolean, ?::uuid, ?::uuid, ?::timestamptz, ?::text, ?::uuid, ?::uuid,
            ?::timestamptz, ?::timestamptz
      where (select count(*) from target) = ?::integer
     returning id)
   insert into executions (id, run_id, agent_id, status, deliver_by, created_at)
   select gen_random_uuid(), run.id, target.agent_id, ?::text, ?::timestamptz, ?::timestamptz from run, target
   returning *`,
);

@Injectable()
export class RunsService {
  constructor(
    private readonly em: EntityManager,
    private readonly agents: AgentsService,
    private readonly targets: RunTargetsService,
    private readonly dispatcher: ExecutionDispatcher,
    private readonly executions: ExecutionsService,
    private readonly progress: RunProgressService,
    private readonly box: SecretBox,
    private readonly endings: RunEndings,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  private readonly seal = (value: string, name: string) => this.box.seal(value, name);

  /** An ad-hoc run, or a job's (then `origin` names it): targets resolved now. */
  async create(request: RunRequest, origin: RunOrigin) {
    const definition = toRunDefinition(request, this.seal);
    return this.startAndView(definition, await this.targets.resolve(definition.target), origin);
  }

  /**
   * A scheduled occurrence is always recorded: when its target matches no agent, as a run that
   * ends `failed` at once with reason `NO_TARGETS`, so nobody wonders why nothing happened.
   */
  async createScheduled(request: RunRequest, origin: RunOrigin): Promise<{ id: string; status: Run['status'] }> {
    const definition = toRunDefinition(request, this.seal);
    try {
      return await this.start(definition, await this.targets.resolve(definition.target), origin);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'NO_TARGETS') throw error;
      const em = this.em.fork();
      const run = em.create(Run, { ...definition, ...origin, status: 'failed', reason: `NO_TARGETS: ${error.message}`, finishedAt: new Date() });
      await em.flush();
      return run;
    }
  }

  /**
   * Repeats a run on the same agents, or with `only: 'failed'` on those whose last attempt ended
   * without success. Agents revoked since are left out; if none is left, NO_TARGETS.
   */
  async rerun(id: string, only: 'failed' | undefined, requestedBy: string) {
    const em = this.em.fork();
    const run = await em.findOne(Run, { id });
    if (!run) throw AppError.notFound('Run', id);
    const last = await em.execute<{ agent_id: string; status: Execution['status'] }[]>(
      `select distinct on (agent_id) agent_id, status from executions where run_id = ? order by agent_id, attempt desc`,
      [id],
    );
    const wanted = last.filter((e) => only !== 'failed' || (e.status !== 'succeeded' && isFinalExecutionStatus(e.status))).map((e) => e.agent_id);
    const live = await this.agents.existingIds(wanted);
    const agentIds = wanted.filter((agentId) => live.has(agentId));
    if (agentIds.length === 0) {
      const message = only === 'failed' ? 'no target of this run ended without success' : 'every agent of this run was revoked';
      throw new AppError('NO_TARGETS', `No targets: ${message}`);
    }
    const definition = { ...pickDefinition(run), target: { agentIds } };
    return this.startAndView(definition, agentIds, { requestedBy, trigger: 'rerun', jobId: run.jobId, rerunOf: run.id });
  }

  /**
   * The run and one execution per target, written together. With a concurrency cap they start
   * `pending` and the first ones are released by the same step that releases the rest later.
   */
  private async start(definition: RunDefinition, agentIds: string[], origin: RunOrigin): Promise<Run> {
    const { run, executions } = await this.insert(definition, agentIds, origin);
    await this.release(run, agentIds, executions);
    return run;
  }

  /**
   * `start`, answered with the run as it is now. Uncapped, that is what was just written, so the
   * answer is built from it: a read-back would wait for connections behind the dispatch it woke.
   */
  private async startAndView(definition: RunDefinition, agentIds: string[], origin: RunOrigin) {
    const { run, executions } = await this.insert(definition, agentIds, origin);
    await this.release(run, agentIds, executions);
    return run.concurrency === null ? toRunView(run, executions) : this.read(run.id);
  }

  /**
   * The run and one execution per target in one statement: as atomic as a transaction, without
   * its BEGIN, COMMIT and separate run insert (three round trips on the way to every dispatch).
   * Written only if every target is a live agent, checked in the same statement: NO_TARGETS otherwise.
   */
  private async insert(definition: RunDefinition, agentIds: string[], origin: RunOrigin): Promise<{ run: Run; executions: Execution[] }> {
    const em = this.em.fork();
    const run = em.create(
      Run,
      { ...definition, ...origin, jobId: origin.jobId ?? null, rerunOf: origin.rerunOf ?? null, scheduledAt: origin.scheduledAt ?? null },
      { persist: false },
    );
    const deliverBy = new Date(run.createdAt.getTime() + (definition.deliveryTimeoutSeconds ?? this.config.deliveryTimeoutSeconds) * 1000);
    const rows = await INSERT_RUN.run<Record<string, unknown>>(em, [
      JSON.stringify(agentIds),
      run.id, run.status, run.trigger, JSON.stringify(run.spec), JSON.stringify(run.env), run.cwd, run.timeoutSeconds,
      run.deliveryTimeoutSeconds, JSON.stringify(run.target), run.concurrency, run.maxFailures,
      run.retries === null ? null : JSON.stringify(run.retries), run.retryLost, run.jobId, run.rerunOf, run.scheduledAt,
      run.reason, run.requestedBy, run.canceledBy, run.createdAt, run.finishedAt, agentIds.length,
      run.concurrency !== null ? 'pending' : 'queued', deliverBy, run.createdAt,
    ]);
    if (rows.length === 0) throw await this.targets.notAllLive(agentIds);
    const executions = rows.map((row) => readOnlyEntity(em, Execution, row)).sort((a, b) => (a.agentId < b.agentId ? -1 : 1));
    return { run, executions };
  }

  /** A capped run releases its first executions; an uncapped one wakes the dispatcher for all. */
  private async release(run: Run, agentIds: string[], executions: Execution[]): Promise<void> {
    if (run.concurrency !== null) {
      await this.progress.settle(run.id);
      return;
    }
    // After this turn of the event loop, once the answer is written: it never waits for the
    // sends of a fan-out to a thousand agents. Queued in the database already, so nothing is lost.
    const queued = executions.map((e) => toPendingRow(run, e));
    setImmediate(() => this.dispatcher.wake(run.id, agentIds, queued));
  }

  /**
   * A run just created, answered once it has ended or when `waitSeconds` are over (`POST ?wait=`).
   * Subscribed before its first dispatch, which waits for the next turn of the event loop, so
   * even the quickest end wakes it; unlike `get`, nothing is read until then.
   */
  async awaitEnd(view: ReturnType<typeof toRunView>, waitSeconds: number) {
    if (view.finishedAt !== null || waitSeconds <= 0) return view;
    const deadline = Date.now() + waitSeconds * 1000;
    const ended = await this.endings.subscribe(view.id, Math.min(waitSeconds * 1000, WAIT_REREAD_MS)).woken;
    return ended ? this.viewOf(ended) : this.get(view.id, Math.max(0, deadline - Date.now()) / 1000);
  }

  /**
   * The run as it is now; with `waitSeconds`, as soon as it has ended or when the wait is over,
   * whichever is first. An end notified on this hub answers at once; one settled through another
   * hub is seen at the next re-read.
   */
  async get(id: string, waitSeconds = 0) {
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const remaining = deadline - Date.now();
      // Subscribed before the read, so an end stored in between still wakes us.
      const wakeup = remaining > 0 ? this.endings.subscribe(id, Math.min(remaining, WAIT_REREAD_MS)) : null;
      const view = await this.read(id).catch((error: unknown) => {
        wakeup?.cancel();
        throw error;
      });
      if (wakeup === null || view.finishedAt !== null) {
        wakeup?.cancel();
        return view;
      }
      const ended = await wakeup.woken;
      if (ended) return this.viewOf(ended);
    }
  }

  private async read(id: string) {
    const [row] = await this.em
      .fork()
      .execute<{ stored: StoredRun }[]>(`select ${runWithExecutionsJson('r')} as stored from runs r where r.id = ?`, [id]);
    if (!row) throw AppError.notFound('Run', id);
    return this.viewOf(row.stored);
  }

  /** Mapped to entities without the query builder, which cost more CPU than PostgreSQL did. */
  private viewOf(stored: StoredRun) {
    const em = this.em.fork();
    return toRunView(readOnlyEntity(em, Run, stored.run), stored.executions.map((execution) => readOnlyEntity(em, Execution, execution)));
  }

  async list(query: RunListQuery): Promise<Page<ReturnType<typeof toRunSummary>>> {
    const where = {
      ...(query.status ? { status: { $in: query.status } } : {}),
      ...(query.jobId ? { jobId: query.jobId } : {}),
      ...(query.from || query.to ? { createdAt: { ...(query.from ? { $gte: query.from } : {}), ...(query.to ? { $lte: query.to } : {}) } } : {}),
    };
    const [rows, total] = await this.em.fork().findAndCount(Run, where, {
      orderBy: { [query.sort]: query.order, id: query.order },
      limit: query.limit,
      offset: query.offset,
    });
    return { items: rows.map(toRunSummary), total, limit: query.limit, offset: query.offset };
  }

  /**
   * A canceled run stays canceled: executions not delivered end now, in one statement however
   * many wait; the ones agents hold are asked to stop.
   */
  async cancel(id: string, userId: string | null) {
    const em = this.em.fork();
    const canceled = await em.nativeUpdate(
      Run,
      { id, status: { $in: ['pending', 'running'] } },
      { status: 'canceled', canceledBy: userId, finishedAt: new Date() },
    );
    if (canceled === 0) {
      const run = await em.findOne(Run, { id });
      if (!run) throw AppError.notFound('Run', id);
      throw new AppError('CONFLICT', `Run ${id} already ended ${run.status}`);
    }
    const undelivered = statusesLeadingTo('cancel_undelivered', 'canceled');
    const inUndelivered = undelivered.map(() => '?').join(', ');
    await em.execute(
      `update executions set status = 'canceled', reason = ?, finished_at = now(), cancel_requested_at = now(), cancel_requested_by = ?
        where ${idLockedInOrder('executions', `run_id = ? and status in (${inUndelivered})`)}
          and status in (${inUndelivered})`,
      [`canceled by ${userId ?? 'the scheduler'} before delivery`, userId, id, ...undelivered, ...undelivered],
    );
    this.endings.notify(id);
    const held = await em.find(Execution, { runId: id, status: { $in: ['dispatched', 'running'] } });
    for (const execution of held) await this.executions.requestCancel(execution, userId);
    return this.read(id);
  }
}

/** A queued execution of a run just written, as the dispatcher would read it back. */
function toPendingRow(run: Run, execution: Execution): PendingRow {
  return { id: execution.id, run_id: run.id, agent_id: execution.agentId, spec: run.spec, env: run.env, cwd: run.cwd, timeout_seconds: run.timeoutSeconds };
}

/** Only the definition's own fields, copied out of the run a rerun repeats. */
function pickDefinition(d: RunDefinition): RunDefinition {
  return {
    spec: d.spec,
    env: d.env,
    cwd: d.cwd,
    timeoutSeconds: d.timeoutSeconds,
    deliveryTimeoutSeconds: d.deliveryTimeoutSeconds,
    target: d.target,
    concurrency: d.concurrency,
    maxFailures: d.maxFailures,
    retries: d.retries,
    retryLost: d.retryLost,
  };
}
