import { Migration } from '@mikro-orm/migrations';

export class Migration20261123000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table users (
        id uuid primary key,
        username text not null unique,
        password_hash text not null,
        role text not null check (role in ('viewer', 'operator', 'admin')),
        disabled boolean not null default false,
        created_at timestamptz not null
      );`);
    this.addSql(`
      create table enrollment_tokens (
        id uuid primary key,
        token_hash text not null unique,
        labels jsonb not null default '{}',
        expires_at timestamptz not null,
        max_uses integer null check (max_uses > 0),
        uses integer not null default 0,
        revoked_at timestamptz null,
        created_by uuid null references users (id) on delete set null,
        created_at timestamptz not null
      );`);
    this.addSql(`
      create table agents (
        id uuid primary key,
        name text not null,
        hostname text not null,
        os text not null,
        arch text not null,
        version text not null,
        labels jsonb not null default '{}',
        credential_hash text not null,
        status text not null default 'offline' check (status in ('online', 'offline')),
        connection_id text null,
        last_seen_at timestamptz null,
        enrollment_token_id uuid null references enrollment_tokens (id) on delete set null,
        enrolled_at timestamptz not null,
        revoked_at timestamptz null
      );`);
    this.addSql(`create index agents_revoked_at_index on agents (revoked_at);`);
    this.addSql(`
      create table runs (
        id uuid primary key,
        status text not null check (status in ('pending', 'running', 'succeeded', 'failed', 'canceled')),
        trigger text not null check (trigger in ('manual', 'schedule', 'rerun')),
        spec jsonb not null,
        env jsonb not null default '{}',
        cwd text null,
        timeout_seconds integer null,
        target jsonb not null,
        requested_by uuid null references users (id) on delete set null,
        created_at timestamptz not null,
        finished_at timestamptz null
      );`);
    this.addSql(`create index runs_status_index on runs (status);`);
    this.addSql(`create index runs_created_at_index on runs (created_at);`);
    this.addSql(`
      create table executions (
        id uuid primary key,
        run_id uuid not null references runs (id) on delete cascade,
        agent_id uuid not null references agents (id),
        attempt integer not null default 1,
        status text not null check (status in
          ('queued', 'dispatched', 'running', 'succeeded', 'failed', 'timed_out', 'canceled', 'lost', 'expired')),
        reason text null,
        exit_code integer null,
        signal text null,
        pid integer null,
        output_chunks integer null,
        created_at timestamptz not null,
        dispatched_at timestamptz null,
        started_at timestamptz null,
        finished_at timestamptz null
      );`);
    this.addSql(`create index executions_run_id_index on executions (run_id);`);
    this.addSql(`create index executions_agent_id_status_index on executions (agent_id, status);`);
    this.addSql(`
      create table execution_output (
        execution_id uuid not null references executions (id) on delete cascade,
        seq integer not null,
        stream text not null check (stream in ('stdout', 'stderr')),
        "offset" bigint not null,
        data bytea not null,
        created_at timestamptz not null,
        primary key (execution_id, seq)
      );`);
  }
}
