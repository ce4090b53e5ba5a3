import { Migration } from '@mikro-orm/migrations';

export class Migration20261123110000_execution_lifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table runs
        add column delivery_timeout_seconds integer null,
        add column canceled_by uuid null references users (id) on delete set null;`);
    this.addSql(`
      alter table executions
        add column deliver_by timestamptz null,
        add column cancel_requested_at timestamptz null,
        add column cancel_requested_by uuid null references users (id) on delete set null;`);
    this.addSql(`update executions e set deliver_by = e.created_at + interval '1 hour' where deliver_by is null;`);
    this.addSql(`alter table executions alter column deliver_by set not null;`);
    this.addSql(`create index executions_status_deliver_by_index on executions (status, deliver_by) where status = 'queued';`);
    this.addSql(`create index executions_created_at_index on executions (created_at);`);
  }
}
