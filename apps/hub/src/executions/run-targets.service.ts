import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { AgentsService } from '../agents/agents.service';
import { AppError } from '../common/errors/app-error';
import { labelSelectorSchema } from '../common/validation/label-selector';
import type { RunTarget } from './run-request.schema';

/**
 * Turns a run's target into agents when the run starts. Revoked agents never match; offline ones
 * do, and their executions wait queued until the agent connects or the delivery deadline passes.
 * Matching nobody is `NO_TARGETS`, never a silent empty run.
 */
@Injectable()
export class RunTargetsService {
  constructor(
    private readonly em: EntityManager,
    private readonly agents: AgentsService,
  ) {}

  async resolve(target: RunTarget): Promise<string[]> {
    if (target.agentIds) return this.named(target.agentIds);
    // `all` is the empty selector, which every agent's labels contain.
    const labels = target.labels ? labelSelectorSchema.parse(target.labels) : {};
    const rows = await this.em
      .fork()
      .execute<{ id: string }[]>(`select id from agents where revoked_at is null and labels @> ?::jsonb order by enrolled_at, id`, [
        JSON.stringify(labels),
      ]);
    if (rows.length === 0) {
      const field = target.labels ? 'target.labels' : 'target.all';
      const message = target.labels ? `no agent has the labels ${target.labels}` : 'there are no agents';
      throw new AppError('NO_TARGETS', `No targets: ${message}`, { fields: [{ field, message }] });
    }
    return rows.map((row) => row.id);
  }

  /**
   * Agents named one by one must all exist: a host someone named explicitly is not skipped
   * quietly. That is checked where the run is written, in the same statement (RunsService), so an
   * agent revoked in between cannot slip in; this only drops repeats.
   */
  private named(agentIds: string[]): string[] {
    return [...new Set(agentIds)];
  }

  /** The error for a run whose statement found some of its agents unknown or revoked. */
  async notAllLive(agentIds: string[]): Promise<AppError> {
    const known = await this.agents.existingIds(agentIds);
    const unknown = agentIds.filter((id) => !known.has(id));
    const listed = unknown.length > 0 ? unknown.join(', ') : 'an agent was revoked while the run was being written';
    return new AppError('NO_TARGETS', `Unknown or revoked agent(s): ${listed}`, {
      fields: [{ field: 'target.agentIds', message: `unknown or revoked: ${listed}` }],
    });
  }
}
