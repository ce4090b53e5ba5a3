import { Migration } from '@mikro-orm/migrations';

export class Migration20261130110000_execution_durability extends Migration {
  override async up(): Promise<void> {
    // What the agent's output cap dropped between the kept head and tail (protocol 1.2).
    this.addSql(`
      alter table executions
        add column output_truncated boolean not null default false,
        add column output_dropped_bytes bigint not null default 0;`);
  }
}
