import { Migration } from '@mikro-orm/migrations';

/**
 * `live_changed_at` on agents, runs and executions, set by a trigger whenever a state the
 * dashboard shows changes, so the live namespace reads "what changed since" with one indexed
 * query per tick, whichever hub (or module) made the change. A trigger keeps the hot paths'
 * statements as they are.
 */
export class Migration20261201000000_live_changes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function live_changed() returns trigger language plpgsql as $$
      begin
        new.live_changed_at := clock_timestamp();
        return new;
      end $$;`);
    for (const table of ['agents', 'runs', 'executions']) {
      this.addSql(`alter table ${table} add column live_changed_at timestamptz not null default now();`);
      this.addSql(`create index ${table}_live_changed_at_index on ${table} (live_changed_at);`);
    }
    // Health samples are left out on purpose: they change every agent every few seconds; the
    // fleet page refetches them on a timer instead.
    this.addSql(`
      create trigger agents_live_changed before update of status, name, labels, version, revoked_at on agents
      for each row when ((old.status, old.name, old.labels, old.version, old.revoked_at)
                         is distinct from (new.status, new.name, new.labels, new.version, new.revoked_at))
      execute function live_changed();`);
    this.addSql(`
      create trigger runs_live_changed before update of status on runs
      for each row when (old.status is distinct from new.status) execute function live_changed();`);
    this.addSql(`
      create trigger executions_live_changed before update of status on executions
      for each row when (old.status is distinct from new.status) execute function live_changed();`);
  }
}
