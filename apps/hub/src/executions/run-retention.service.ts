import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from '@mikro-orm/postgresql';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';

const HOUR_MS = 3_600_000;
/** Deleted per statement: an old history goes in short transactions, not one long lock. */
const DELETE_BATCH = 500;

/**
 * Prunes finished runs older than HUB_RUN_RETENTION_DAYS; their executions and output go with
 * them (ON DELETE CASCADE). A run still going is never pruned, however old.
 */
@Injectable()
export class RunRetentionService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RunRetentionService.name);
  private pruning = false;

  constructor(
    private readonly em: EntityManager,
    private readonly scheduler: SchedulerRegistry,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Hourly, or more often when the retention itself is short (tests).
    const everyMs = Math.max(1_000, Math.min(HOUR_MS, (this.config.runRetentionDays * 24 * HOUR_MS) / 4));
    this.scheduler.addInterval('run-retention', setInterval(() => void this.prune(), everyMs));
    void this.prune();
  }

  async prune(): Promise<number> {
    if (this.pruning) return 0;
    this.pruning = true;
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.em.fork().execute<{ id: string }[]>(
          `delete from runs where id in (
             select id from runs
              where status not in ('pending', 'running')
                and created_at < now() - make_interval(secs => ?)
              limit ${DELETE_BATCH})
           returning id`,
          [this.config.runRetentionDays * 86_400],
        );
        total += deleted.length;
        if (deleted.length < DELETE_BATCH) break;
      }
      if (total > 0) this.logger.log(`pruned ${total} run(s) older than ${this.config.runRetentionDays} day(s)`);
    } catch (error) {
      this.logger.warn(`run retention failed: ${(error as Error).message}`);
    } finally {
      this.pruning = false;
    }
    return total;
  }
}
