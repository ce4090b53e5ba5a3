import { Migration } from '@mikro-orm/migrations';

export class Migration20261130220000_audit extends Migration {
  override async up(): Promise<void> {
    // Text ids, not uuid: a target named in a refused request (a malformed id) is recorded as given.
    this.addSql(`
      create table audit_events (
        id uuid primary key,
        at timestamptz not null,
        actor_type text not null check (actor_type in ('user', 'api_token', 'agent', 'anonymous')),
        actor_id text null,
        actor_name text null,
        action text not null,
        target_type text null,
        target_id text null,
        outcome text not null check (outcome in ('succeeded', 'failed', 'aborted')),
        status integer null,
        client_address text null,
        user_agent text null,
        request_id text not null
      );`);
    this.addSql(`create index audit_events_at_index on audit_events (at);`);
    this.addSql(`create index audit_events_actor_index on audit_events (actor_id);`);
    this.addSql(`create index audit_events_target_index on audit_events (target_type, target_id);`);
    this.addSql(`create index audit_events_action_index on audit_events (action, at);`);
    // Append-only below the API too: no statement may change a recorded event (retention deletes whole rows).
    this.addSql(`
      create function audit_events_refuse_update() returns trigger language plpgsql as $$
      begin
        raise exception 'audit events are append-only';
      end $$;`);
    this.addSql(`
      create trigger audit_events_append_only before update on audit_events
        for each row execute function audit_events_refuse_update();`);
  }
}
