import { Inject, Injectable } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { EntityManager } from '@mikro-orm/postgresql';
import type { ExecutionSpec } from '@outpost/protocol';
import { AgentsService } from '../agents/agents.service';
import { AppError } from '../common/errors/app-error';
import { Execution } from './execution.entity';
import { toRunSummary, toRunView } from './execution-views';
import { ExecutionsService } from './executions.service';
import type { Page } from '../common/validation/common-schemas';
import { ExecutionDispatcher } from './execution-dispatcher';
import type { RunRequest } from './run-request.schema';
import { Run, type StoredEnvValue } from './run.entity';

function specOf(request: RunRequest): ExecutionSpec {
  if (request.argv) return { kind: 'argv', argv: request.argv };
  if (request.script) return { kind: 'script', script: request.script, shell: request.shell! };
  return { kind: 'command', command: request.command! };
}

@Injectable()
export class RunsService {
  constructor(
    private readonly em: EntityManager,
    private readonly agents: AgentsService,
    private readonly dispatcher: ExecutionDispatcher,
    private readonly executions: ExecutionsService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  /** A run with one queued execution per target, written in one transaction, then dispatched. */
  async create(request: RunRequest, requestedBy: string) {
    const agentIds = [...new Set(request.target.agentIds)];
    const known = await this.agents.existingIds(agentIds);
    const unknown = agentIds.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new AppError('NO_TARGETS', `Unknown or revoked agent(s): ${unknown.join(', ')}`, {
        fields: [{ field: 'target.agentIds', message: `unknown or revoked: ${unknown.join(', ')}` }],
      });
    }
    const env: Record<string, StoredEnvValue> = Object.fromEntries(
      Object.entries(request.env).map(([k, v]) => [k, typeof v === 'string' ? { value: v, secret: false } : v]),
    );
    const em = this.em.fork();
    const { run, executions } = await em.transactional(async (tx) => {
      const run = tx.create(Run, {
        spec: specOf(request),
        env,
        cwd: request.cwd ?? null,
        timeoutSeconds: request.timeoutSeconds ?? null,
        deliveryTimeoutSeconds: request.deliveryTimeoutSeconds ?? null,
        target: { agentIds },
        requestedBy,
      });
      // Executions reference the run by a plain id, not a relation: write the run first.
      await tx.flush();
      const deliverBy = new Date(run.createdAt.getTime() + (request.deliveryTimeoutSeconds ?? this.config.deliveryTimeoutSeconds) * 1000);
      const executions = agentIds.map((agentId) => tx.create(Execution, { runId: run.id, agentId, deliverBy }));
      await tx.flush();
      return { run, executions };
    });
    for (const agentId of agentIds) this.dispatcher.kick(agentId);
    return toRunView(run, executions);
  }

  async get(id: string) {
    const em = this.em.fork();
    const run = await em.findOne(Run, { id });
    if (!run) throw AppError.notFound('Run', id);
    const executions = await em.find(Execution, { runId: id }, { orderBy: { createdAt: 'asc', agentId: 'asc', attempt: 'asc' } });
    return toRunView(run, executions);
  }

  async list(query: RunListQuery): Promise<Page<ReturnType<typeof toRunSummary>>> {
    const where = {
      ...(query.status ? { status: { $in: query.status } } : {}),
      ...(query.from || query.to ? { createdAt: { ...(query.from ? { $gte: query.from } : {}), ...(query.to ? { $lte: query.to } : {}) } } : {}),
    };
    const [rows, total] = await this.em.fork().findAndCount(Run, where, {
      orderBy: { [query.sort]: query.order, id: query.order },
      limit: query.limit,
      offset: query.offset,
    });
    return { items: rows.map(toRunSummary), total, limit: query.limit, offset: query.offset };
  }

  /** A canceled run stays canceled: executions not delivered end now, the others are asked to stop. */
  async cancel(id: string, userId: string) {
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
    const open = await em.find(Execution, { runId: id, status: { $in: ['queued', 'dispatched', 'running'] } });
    for (const execution of open) await this.executions.requestCancel(execution, userId);
    return this.get(id);
  }
}

export const RUN_SORT_FIELDS = ['createdAt', 'finishedAt'] as const;

export interface RunListQuery {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  sort: (typeof RUN_SORT_FIELDS)[number];
  status?: Run['status'][] | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}
