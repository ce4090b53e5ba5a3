import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from '@mikro-orm/postgresql';
import type { HealthSample } from '@outpost/protocol';
import type { AgentHealthSummary } from '../agents/agent.entity';
import { executeBound } from '../common/database/bound-query';
import { lockedInOrder } from '../common/database/locked-in-order';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { loggableError } from '../logging/loggable-error';

/** Samples are collected and written in one statement per flush: a fleet of 10,000 sends ~700/s. */
const FLUSH_MS = 2_000;
/** Raw samples older than this are rolled up into 5-minute averages. */
const RAW_KEEP_HOURS = 24;
const HOUSEKEEPING_MS = 10 * 60_000;

export interface HealthPoint extends AgentHealthSummary {
  resolution: 'raw' | '5m';
}

export function summarize(sample: HealthSample): AgentHealthSummary {
  const disk = sample.disks.length > 0 ? Math.max(...sample.disks.map((d) => d.usedPercent)) : null;
  return {
    cpuPercent: round(sample.cpuPercent),
    memUsedPercent: round(sample.memUsedPercent),
    diskUsedPercent: disk === null ? null : round(disk),
    load1: round(sample.load1),
    uptimeSeconds: Math.round(sample.uptimeSeconds),
    sampledAt: new Date(sample.sampledAt).toISOString(),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The agents' health as a time series, with retention and roll-ups. */
@Injectable()
export class HealthSamplesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HealthSamplesService.name);
  private pending = new Map<string, AgentHealthSummary>();

  constructor(
    private readonly em: EntityManager,
    private readonly scheduler: SchedulerRegistry,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval('health-flush', setInterval(() => void this.flush(), FLUSH_MS));
    this.scheduler.addInterval('health-housekeeping', setInterval(() => void this.housekeeping(), HOUSEKEEPING_MS));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /** Keeps the newest sample per agent until the next flush; a burst from one agent costs one row. */
  record(agentId: string, sample: HealthSample): void {
    this.pending.set(agentId, summarize(sample));
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending].map(([agentId, summary]) => ({ agentId, summary }));
    this.pending = new Map();
    // One statement with one JSON document, bound (executeBound): the query builder would expand a
    // bound array into a list, and a second statement would send the whole batch again.
    try {
      await executeBound(
        this.em.fork(),
        `with h as (select * from jsonb_to_recordset(?::jsonb) as h("agentId" uuid, summary jsonb)),
         inserted as (
           insert into agent_health_samples
             (agent_id, resolution, sampled_at, cpu_percent, mem_used_percent, disk_used_percent, load1, uptime_seconds)
           select a.id, 'raw', (h.summary->>'sampledAt')::timestamptz, (h.summary->>'cpuPercent')::real,
                  (h.summary->>'memUsedPercent')::real, (h.summary->>'diskUsedPercent')::real,
                  (h.summary->>'load1')::real, (h.summary->>'uptimeSeconds')::float8
             from h join agents a on a.id = h."agentId"
           on conflict do nothing),
         ${lockedInOrder('agents', 'h', 't.id = s."agentId"')}
         update agents a set last_health = h.summary
           from h, locked l
          where a.id = h."agentId" and a.id = l.id`,
        [JSON.stringify(batch)],
      );
    } catch (error) {
      this.logger.warn({ samples: batch.length, ...loggableError(error) }, 'health flush failed; the samples are dropped');
    }
  }

  async series(agentId: string, from: Date, to: Date): Promise<HealthPoint[]> {
    const rows = await this.em.fork().execute<
      { resolution: 'raw' | '5m'; sampled_at: Date; cpu_percent: number; mem_used_percent: number; disk_used_percent: number | null; load1: number; uptime_seconds: number }[]
    >(
      `select resolution, sampled_at, cpu_percent, mem_used_percent, disk_used_percent, load1, uptime_seconds
         from agent_health_samples
        where agent_id = ? and sampled_at >= ? and sampled_at <= ?
        order by sampled_at
        limit 20000`,
      [agentId, from, to],
    );
    return rows.map((r) => ({
      resolution: r.resolution,
      sampledAt: new Date(r.sampled_at).toISOString(),
      cpuPercent: round(r.cpu_percent),
      memUsedPercent: round(r.mem_used_percent),
      diskUsedPercent: r.disk_used_percent === null ? null : round(r.disk_used_percent),
      load1: round(r.load1),
      uptimeSeconds: Math.round(r.uptime_seconds),
    }));
  }

  /** Rolls raw samples older than a day into 5-minute averages, and drops what is past retention. */
  async housekeeping(): Promise<void> {
    try {
      await this.em.fork().transactional(async (em) => {
        await em.execute(
          `insert into agent_health_samples
             (agent_id, resolution, sampled_at, cpu_percent, mem_used_percent, disk_used_percent, load1, uptime_seconds)
           select agent_id, '5m', date_bin('5 minutes', sampled_at, timestamptz '2000-01-01'),
                  avg(cpu_percent), avg(mem_used_percent), avg(disk_used_percent), avg(load1), max(uptime_seconds)
             from agent_health_samples
            where resolution = 'raw' and sampled_at < now() - make_interval(hours => ?)
            group by 1, 3
           on conflict do nothing`,
          [RAW_KEEP_HOURS],
        );
        await em.execute(`delete from agent_health_samples where resolution = 'raw' and sampled_at < now() - make_interval(hours => ?)`, [
          RAW_KEEP_HOURS,
        ]);
        await em.execute(`delete from agent_health_samples where sampled_at < now() - make_interval(days => ?)`, [
          this.config.healthRetentionDays,
        ]);
      });
    } catch (error) {
      this.logger.warn(`health housekeeping failed: ${(error as Error).message}`);
    }
  }
}
