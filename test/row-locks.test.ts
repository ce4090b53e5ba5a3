import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idLockedInOrder, lockedInOrder } from '../apps/hub/src/common/database/locked-in-order';
import { createPostgresDatabase } from './support/databases';

const AGENT = '00000000-0000-4000-8000-000000000001';

// The row locks every batched update takes first (common/database/locked-in-order.ts), held by one
// connection while another goes about its work, as a heartbeat flush and a run's insert do under load.
describe.skipIf(!process.env.DATABASE_URL)('row locks of batched updates', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let holder: Client;
  let other: Client;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    holder = new Client({ connectionString: database.url });
    other = new Client({ connectionString: database.url });
    await Promise.all([holder.connect(), other.connect()]);
    await holder.query(`create table agents (id uuid primary key, last_seen_at timestamptz)`);
    await holder.query(`create table executions (id uuid primary key, agent_id uuid not null references agents (id), status text)`);
    await holder.query(`insert into agents (id) values ($1)`, [AGENT]);
    // Waiting for a lock fails fast instead of hanging: a blocked statement is an error here.
    await other.query(`set lock_timeout = '500ms'`);
  });

  afterAll(async () => {
    await Promise.all([holder?.end(), other?.end()]);
    await database?.drop();
  });

  async function whileLocked(lock: string, work: () => Promise<unknown>): Promise<unknown> {
    await holder.query('begin');
    try {
      await holder.query(lock, [JSON.stringify([AGENT])]);
      return await work().then(
        () => 'done',
        (error: { code?: string }) => error.code,
      );
    } finally {
      await holder.query('rollback');
    }
  }

  const batchLock = `with h as (select value::uuid as id from jsonb_array_elements_text($1::jsonb)), ${lockedInOrder('agents', 'h', 't.id = s.id')} select id from locked`;

  it("do not hold up a foreign-key check: rows that reference the locked one are inserted meanwhile", async () => {
    const outcome = await whileLocked(batchLock, () =>
      other.query(`insert into executions (id, agent_id) values (gen_random_uuid(), $1)`, [AGENT]),
    );
    expect(outcome).toBe('done');
  });

  it('still keep two updaters of the same row apart', async () => {
    const outcome = await whileLocked(batchLock, () =>
      other.query(`update agents set last_seen_at = now() where ${idLockedInOrder('agents', `id = '${AGENT}'`)}`),
    );
    // 55P03 lock_not_available: the second updater had to wait for the first.
    expect(outcome).toBe('55P03');
  });
});
