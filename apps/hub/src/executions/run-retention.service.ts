import { Inject, Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from '@mikro-orm/postgresql';
import { RetentionPruner } from '../common/database/retention-pruner';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';

/**
 * Prunes finished runs older than HUB_RUN_RETENTION_DAYS; their executions and output go with
 * them (ON DELETE CASCADE). A run still going is never pruned, however old.
 */
@Injectable()
export class RunRetentionService extends RetentionPruner {
  constructor(
    private readonly em: EntityManager,
    scheduler: SchedulerRegistry,
    @Inject(HUB_CONFIG) config: HubConfig,
  ) {
    super(scheduler, 'run', config.runRetentionDays, 500);
  }

  protected async deleteBatch(olderThanSeconds: number, limit: number): Promise<number> {
    const deleted = await this.em.fork().execute<{ id: string }[]>(
      `delete from runs where id in (
         select id from runs
          where status not in ('pending', 'running')
            and created_at < now() - make_interval(secs => ?)
          limit ${limit})
       returning id`,
      [olderThanSeconds],
    );
    return deleted.length;
  }
}
