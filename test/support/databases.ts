import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export type DatabaseKind = 'embedded' | 'postgres';

/** Functional tests run on the embedded database, and on PostgreSQL too when DATABASE_URL is set. */
export function databaseKinds(): DatabaseKind[] {
  return process.env.DATABASE_URL ? ['embedded', 'postgres'] : ['embedded'];
}

/**
 * Crash recovery and races run on PostgreSQL when DATABASE_URL is set (DESIGN.md §7), and on
 * the embedded database only where there is no PostgreSQL, so every machine still runs them once.
 */
export function crashRecoveryDatabases(): DatabaseKind[] {
  return process.env.DATABASE_URL ? ['postgres'] : ['embedded'];
}

/**
 * A fresh database on the PostgreSQL server of DATABASE_URL, dropped by the returned function: a
 * copy of `template` when given (nothing may be connected to it meanwhile), else empty.
 */
export async function createPostgresDatabase(template?: string | null): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set');
  const name = `outpost_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(template ? `create database ${name} template ${template}` : `create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: base });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
