import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Namespace } from 'socket.io';
import { ChangeWindow, type ChangeRow } from './live-changes';

/** How often connected dashboards learn about changes. */
const TICK_MS = 1000;
/** How far each read reaches back before the newest change seen: covers transactions that commit a little after they wrote. */
const OVERLAP_MS = 3000;

/** Changes sent per tick at most; past it, sockets are told to reload everything instead. */
const MAX_CHANGES = 2000;

/** Newest first, so a burst larger than MAX_CHANGES still moves the window forward. */
const CHANGES_SQL = `
  select 'agent' as kind, id, null::uuid as run_id, status, live_changed_at as changed_at from agents where live_changed_at > ?
  union all
  select 'run', id, null, status, live_changed_at from runs where live_changed_at > ?
  union all
  select 'execution', id, run_id, status, live_changed_at from executions where live_changed_at > ?
  order by changed_at desc
  limit ${MAX_CHANGES}`;

/**
 * Tells the `/live` sockets which agents, runs and executions changed (ids and states; clients
 * fetch details over REST). It reads the `live_changed_at` columns once per tick, one query per
 * hub however many sockets it holds, and only while it holds any: a change is seen whichever hub
 * made it, and no other module has to call into this one.
 */
@Injectable()
export class LiveFeedService implements OnApplicationShutdown {
  private readonly logger = new Logger(LiveFeedService.name);
  private timer: NodeJS.Timeout | undefined;
  private window: ChangeWindow | undefined;
  private ticking = false;

  constructor(private readonly em: EntityManager) {}

  /** Starts or stops the tick as sockets come and go. */
  watch(namespace: Namespace): void {
    if (namespace.sockets.size > 0 && !this.timer) {
      this.timer = setInterval(() => void this.tick(namespace), TICK_MS);
    } else if (namespace.sockets.size === 0 && this.timer) {
      this.stop();
    }
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.window = undefined;
  }

  private async tick(namespace: Namespace): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const em = this.em.fork();
      if (!this.window) {
        const [{ now }] = await em.execute<{ now: Date }[]>('select now() as now');
        this.window = new ChangeWindow(new Date(now), OVERLAP_MS);
      }
      const since = this.window.since();
      const rows = await em.execute<ChangeRow[]>(CHANGES_SQL, [since, since, since]);
      for (const [event, batch] of Object.entries(this.window.take(rows))) namespace.emit(event, batch);
      if (rows.length === MAX_CHANGES) namespace.emit('changes.truncated', {});
    } catch (error) {
      this.logger.warn(`live changes could not be read: ${(error as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }
}
