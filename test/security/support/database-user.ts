import * as argon2 from 'argon2';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { TestHub } from '../../support/test-hub';

/**
 * A user of the given role, written straight into the hub's PostgreSQL database (there is no
 * users API on this branch yet), logged in through the API: returns its access token.
 */
export async function userToken(hub: TestHub, role: 'viewer' | 'operator' | 'admin'): Promise<string> {
  const url = hub.databaseUrl;
  if (!url) throw new Error('userToken needs the PostgreSQL database');
  const username = `${role}-${randomUUID().slice(0, 8)}`;
  const password = randomUUID();
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('insert into users (id, username, password_hash, role, created_at) values ($1, $2, $3, $4, now())', [
      randomUUID(),
      username,
      await argon2.hash(password, { type: argon2.argon2id }),
      role,
    ]);
  } finally {
    await client.end();
  }
  const login = await hub.request('POST', '/api/v1/auth/login', { username, password }, null);
  if (login.status !== 200) throw new Error(`login as ${role} failed: ${login.status} ${login.text}`);
  return login.body.accessToken as string;
}
