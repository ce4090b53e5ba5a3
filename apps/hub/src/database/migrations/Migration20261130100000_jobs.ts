import { Migration } from '@mikro-orm/migrations';

export class Migration20261130100000_jobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table jobs (
        id uuid primary key,
        name text not null unique,
        description text null,
        spec jsonb not null,
        env jsonb not null default '{}',
        cwd text null,
        timeout_seconds integer null,
        delivery_timeout_seconds integer null,
        target jsonb not null,
        concurrency integer null check (concurrency > 0),
        max_failures integer null check (max_failures > 0),
        retries jsonb null,
        retry_lost boolean not null default false,
        enabled boolean not null default true,
        created_by uuid null references users (id) on delete set null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      );`);
    this.addSql(`create index jobs_created_at_index on jobs (created_at);`);
    // A run keeps its own copy of the definition, so deleting a job leaves its history readable.
    this.addSql(`
      alter table runs
        add column job_id uuid null references jobs (id) on delete set null,
        add column rerun_of uuid null references runs (id) on delete set null,
        add column concurrency integer null check (concurrency > 0),
        add column max_failures integer null check (max_failures > 0),
        add column retries jsonb null,
        add column retry_lost boolean not null default false;`);
    this.addSql(`create index runs_job_id_index on runs (job_id);`);
    this.addSql(`alter table executions add column not_before timestamptz null;`);
    this.addSql(`alter table executions drop constraint executions_status_check;`);
    this.addSql(`
      alter table executions add constraint executions_status_check check (status in
        ('pending', 'queued', 'dispatched', 'running', 'succeeded', 'failed', 'timed_out', 'canceled', 'lost', 'expired'));`);
    // One row per attempt of a target: two hubs advancing the same run cannot both add attempt N.
    this.addSql(`create unique index executions_run_agent_attempt_unique on executions (run_id, agent_id, attempt);`);
    // Small: only executions not yet final. Settling a run and releasing its pending ones read just these.
    this.addSql(`
      create index executions_open_run_id_index on executions (run_id, status)
        where status in ('pending', 'queued', 'dispatched', 'running');`);
  }
}
