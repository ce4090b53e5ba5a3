import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { ExecutionSpec } from '@outpost/protocol';
import { AgentsService } from '../agents/agents.service';
import { AppError } from '../common/errors/app-error';
import { Execution } from './execution.entity';
import { toRunView } from './execution-views';
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
        target: { agentIds },
        requestedBy,
      });
      // Executions reference the run by a plain id, not a relation: write the run first.
      await tx.flush();
      const executions = agentIds.map((agentId) => tx.create(Execution, { runId: run.id, agentId }));
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
}
