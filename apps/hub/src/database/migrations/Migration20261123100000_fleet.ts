import { Migration } from '@mikro-orm/migrations';

export class Migration20261123100000_fleet extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table agents
        add column facts jsonb null,
        add column capabilities jsonb not null default '[]',
        add column pending_credential_hash text null,
        add column last_health jsonb null;`);
    this.addSql(`create index agents_hostname_index on agents (hostname) where revoked_at is null;`);
    // Raw samples are kept for a day, then rolled up into 5-minute averages kept for the retention period.
    this.addSql(`
      create table agent_health_samples (
        agent_id uuid not null references agents (id) on delete cascade,
        resolution text not null check (resolution in ('raw', '5m')),
        sampled_at timestamptz not null,
        cpu_percent real not null,
        mem_used_percent real not null,
        disk_used_percent real null,
        load1 real not null,
        uptime_seconds double precision not null,
        primary key (agent_id, resolution, sampled_at)
      );`);
    this.addSql(`create index agent_health_samples_sampled_at_index on agent_health_samples (sampled_at);`);
  }
}
