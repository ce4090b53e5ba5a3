import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';

const HOUR_MS = 3_600_000;

/**
 * Housekeeping that deletes rows older than a retention, in batches (an old history goes in
 * short transactions, not one long lock), hourly, or more often when the retention itself is
 * short (tests). One prune at a time per hub; several hubs pruning at once delete disjoint rows.
 */
export abstract class RetentionPruner implements OnApplicationBootstrap {
  private readonly logger = new Logger(this.constructor.name);
  private pruning = false;

  protected constructor(
    private readonly scheduler: SchedulerRegistry,
    /** Names the interval and the log line, e.g. `run`. */
    private readonly what: string,
    private readonly retentionDays: number,
    private readonly batchSize: number,
  ) {}

  /** Deletes at most `limit` rows older than `olderThanSeconds`; returns how many went. */
  protected abstract deleteBatch(olderThanSeconds: number, limit: number): Promise<number>;

  onApplicationBootstrap(): void {
    const everyMs = Math.max(1_000, Math.min(HOUR_MS, (this.retentionDays * 24 * HOUR_MS) / 4));
    this.scheduler.addInterval(`${this.what}-retention`, setInterval(() => void this.prune(), everyMs));
    void this.prune();
  }

  async prune(): Promise<number> {
    if (this.pruning) return 0;
    this.pruning = true;
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.deleteBatch(this.retentionDays * 86_400, this.batchSize);
        total += deleted;
        if (deleted < this.batchSize) break;
      }
      if (total > 0) this.logger.log(`pruned ${total} ${this.what}(s) older than ${this.retentionDays} day(s)`);
    } catch (error) {
      this.logger.warn(`${this.what} retention failed: ${(error as Error).message}`);
    } finally {
      this.pruning = false;
    }
    return total;
  }
}
