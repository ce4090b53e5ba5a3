import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/test-hub';
import { enrollBody } from './support/raw-agent';

const ENROLLMENTS = 50;

/** A race, so PostgreSQL only (DESIGN.md §7): one single-use token, fifty hosts at once. */
describe.runIf(process.env.DATABASE_URL)('concurrent enrollments with one single-use token', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'postgres' });
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  it('exactly one succeeds; the others get 401 UNAUTHORIZED and no agent row', async () => {
    const token = await hub.api('POST', '/api/v1/enrollment-tokens', { labels: { race: 'yes' }, maxUses: 1 });
    expect(token.status, token.text).toBe(201);
    const responses = await Promise.all(
      Array.from({ length: ENROLLMENTS }, (_, i) => hub.request('POST', '/api/v1/agents/enroll', enrollBody(token.body.token, `racer-${i}`), null)),
    );
    const won = responses.filter((r) => r.status === 201);
    const lost = responses.filter((r) => r.status !== 201);
    expect(won.length).toBe(1);
    expect(lost.length).toBe(ENROLLMENTS - 1);
    for (const response of lost) {
      expect(response.status, response.text).toBe(401);
      expect(response.body.error).toMatchObject({ code: 'UNAUTHORIZED', message: 'Enrollment token has been used up' });
    }

    const client = new Client({ connectionString: hub.databaseUrl });
    await client.connect();
    try {
      const agents = await client.query<{ id: string }>('select id from agents where enrollment_token_id = $1', [token.body.id]);
      expect(agents.rows.map((row) => row.id)).toEqual([won[0]!.body.agentId]);
      expect((await client.query('select count(*)::int as n from agents')).rows[0].n).toBe(1);
      const uses = await client.query<{ uses: number }>('select uses from enrollment_tokens where id = $1', [token.body.id]);
      expect(uses.rows[0]!.uses).toBe(1);
    } finally {
      await client.end();
    }
    const listed = await hub.api('GET', '/api/v1/enrollment-tokens');
    expect(listed.body.items.find((t: { id: string }) => t.id === token.body.id)).toMatchObject({ uses: 1, status: 'used_up' });
  });
});
