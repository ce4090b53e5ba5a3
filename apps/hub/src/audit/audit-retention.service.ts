import { Inject, Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from '@mikro-orm/postgresql';
import { RetentionPruner } from '../common/database/retention-pruner';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';

/** Deletes audit events older than HUB_AUDIT_RETENTION_DAYS: the only way one ever leaves the table. */
@Injectable()
export class AuditRetentionService extends RetentionPruner {
  constructor(
    private readonly em: EntityManager,
    scheduler: SchedulerRegistry,
    @Inject(HUB_CONFIG) config: HubConfig,
  ) {
    super(scheduler, 'audit event', config.auditRetentionDays, 1000);
  }

  protected async deleteBatch(olderThanSeconds: number, limit: number): Promise<number> {
    const deleted = await this.em.fork().execute<{ id: string }[]>(
      `delete from audit_events where id in (
         select id from audit_events where at < now() - make_interval(secs => ?) limit ${limit})
       returning id`,
      [olderThanSeconds],
    );
    return deleted.length;
  }
}
