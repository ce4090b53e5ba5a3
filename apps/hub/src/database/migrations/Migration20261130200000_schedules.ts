import { Migration } from '@mikro-orm/migrations';

export class Migration20261130200000_schedules extends Migration {
  override async up(): Promise<void> {
    // The next occurrence lives here: the scheduler claims it with a guarded update on next_fire_at.
    this.addSql(`
      alter table jobs
        add column schedule jsonb null,
        add column overlap text not null default 'skip' check (overlap in ('allow', 'skip', 'replace')),
        add column missed text not null default 'runOnce' check (missed in ('skip', 'runOnce')),
        add column starting_deadline_seconds integer not null default 3600 check (starting_deadline_seconds > 0),
        add column paused boolean not null default false,
        add column schedule_set_by uuid null references users (id) on delete set null,
        add column next_fire_at timestamptz null,
        add column next_due_at timestamptz null;`);
    this.addSql(`create index jobs_next_due_at_index on jobs (next_due_at) where next_due_at is not null;`);
    // One run per occurrence of a job, whichever hub or restart fires it.
    this.addSql(`
      alter table runs
        add column scheduled_at timestamptz null,
        add column reason text null;`);
    this.addSql(`create unique index runs_job_id_scheduled_at_unique on runs (job_id, scheduled_at);`);
    // One row: the hub-wide pause, and the lease of the hub that leads the scheduler.
    this.addSql(`
      create table scheduler_state (
        id integer primary key check (id = 1),
        paused boolean not null default false,
        paused_by uuid null references users (id) on delete set null,
        paused_at timestamptz null,
        leader_id text null,
        leader_since timestamptz null,
        lease_until timestamptz null
      );`);
    this.addSql(`insert into scheduler_state (id) values (1);`);
  }
}
