import { PGlite } from '@electric-sql/pglite';
import * as argon2 from 'argon2';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

/** A user written straight into the database, for tests that need roles before a users API is at hand. */
export interface SeedUser {
  username: string;
  password: string;
  role: 'viewer' | 'operator' | 'admin';
}

const INSERT = `insert into users (id, username, password_hash, role, disabled, created_at) values ($1, $2, $3, $4, false, now())`;

async function rowsOf(users: SeedUser[]): Promise<unknown[][]> {
  return Promise.all(users.map(async (u) => [randomUUID(), u.username, await argon2.hash(u.password, { type: argon2.argon2id }), u.role]));
}

/** A copy of the embedded template with these users in it (the embedded database is one process's: seed before the hub opens it). */
export async function embeddedTemplateWithUsers(template: string, users: SeedUser[]): Promise<string> {
  const copy = mkdtempSync(path.join(os.tmpdir(), 'outpost-seeded-'));
  cpSync(template, copy, { recursive: true });
  const db = new PGlite(path.join(copy, 'pg'));
  try {
    for (const row of await rowsOf(users)) await db.query(INSERT, row);
  } finally {
    await db.close();
  }
  return copy;
}

export async function seedPostgresUsers(databaseUrl: string, users: SeedUser[]): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const row of await rowsOf(users)) await client.query(INSERT, row);
  } finally {
    await client.end();
  }
}
