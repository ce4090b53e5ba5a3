import { Migration } from '@mikro-orm/migrations';

export class Migration20261130230000_sessions_and_api_tokens extends Migration {
  override async up(): Promise<void> {
    // One row per login: the `sid` of its access tokens and the family of its refresh tokens.
    this.addSql(`
      create table user_sessions (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        revoked_at timestamptz null,
        revoked_reason text null,
        client_address text null,
        user_agent text null
      );`);
    this.addSql(`create index user_sessions_user_id_index on user_sessions (user_id) where revoked_at is null;`);
    // Every refresh token ever issued, so a second use of one is recognised as reuse.
    this.addSql(`
      create table refresh_tokens (
        token_hash text primary key,
        session_id uuid not null references user_sessions (id) on delete cascade,
        created_at timestamptz not null,
        used_at timestamptz null
      );`);
    this.addSql(`create index refresh_tokens_session_id_index on refresh_tokens (session_id);`);
    this.addSql(`
      create table api_tokens (
        id uuid primary key,
        name text not null,
        user_id uuid not null references users (id) on delete cascade,
        role text not null check (role in ('viewer', 'operator', 'admin')),
        token_hash text not null unique,
        created_at timestamptz not null,
        expires_at timestamptz null,
        last_used_at timestamptz null,
        revoked_at timestamptz null
      );`);
    this.addSql(`create index api_tokens_user_id_index on api_tokens (user_id);`);
  }
}
