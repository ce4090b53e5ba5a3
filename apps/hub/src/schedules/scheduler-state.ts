import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';

export interface SchedulerStateRow {
  paused: boolean;
  pausedBy: string | null;
  pausedAt: Date | null;
  leaderId: string | null;
  leaderSince: Date | null;
  leaseUntil: Date | null;
}

/**
 * The one `scheduler_state` row: the hub-wide pause, and the lease of the hub that leads the
 * scheduler. The database's clock times the lease, so the hubs' clocks need not agree.
 */
@Injectable()
export class SchedulerState {
  constructor(private readonly em: EntityManager) {}

  /** Takes the lead when nobody holds it or the lease ran out, or extends this hub's own. True when this hub leads. */
  async holdLease(hubId: string, seconds: number): Promise<boolean> {
    const rows = await this.em.fork().execute<{ leader_id: string }[]>(
      `update scheduler_state
          set leader_since = case when leader_id = ? then leader_since else now() end,
              leader_id = ?, lease_until = now() + make_interval(secs => ?)
        where id = 1 and (leader_id = ? or leader_id is null or lease_until < now())
        returning leader_id`,
      [hubId, hubId, seconds, hubId],
    );
    return rows.length === 1;
  }

  /** On a clean stop, so another hub takes over at its next try instead of after the lease. */
  async releaseLease(hubId: string): Promise<void> {
    await this.em
      .fork()
      .execute(`update scheduler_state set leader_id = null, leader_since = null, lease_until = null where id = 1 and leader_id = ?`, [hubId]);
  }

  async read(): Promise<SchedulerStateRow> {
    const [row] = await this.em.fork().execute<
      { paused: boolean; paused_by: string | null; paused_at: Date | null; leader_id: string | null; leader_since: Date | null; lease_until: Date | null }[]
    >(`select paused, paused_by, paused_at, leader_id, leader_since, case when lease_until >= now() then lease_until end as lease_until
         from scheduler_state where id = 1`);
    return {
      paused: row!.paused,
      pausedBy: row!.paused_by,
      pausedAt: row!.paused_at && new Date(row!.paused_at),
      // A lease that ran out leads nothing.
      leaderId: row!.lease_until ? row!.leader_id : null,
      leaderSince: row!.lease_until && row!.leader_since ? new Date(row!.leader_since) : null,
      leaseUntil: row!.lease_until && new Date(row!.lease_until),
    };
  }

  /** Guarded: true only when this call changed it. */
  async setPaused(paused: boolean, userId: string): Promise<boolean> {
    const rows = await this.em
      .fork()
      .execute<{ id: number }[]>(
        `update scheduler_state set paused = ?, paused_by = ?, paused_at = ? where id = 1 and paused <> ? returning id`,
        [paused, paused ? userId : null, paused ? new Date() : null, paused],
      );
    return rows.length === 1;
  }
}
