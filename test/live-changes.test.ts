import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child } from './support/child-process';
import { enrollAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { LiveClient } from './support/users';
import { waitFor } from './support/wait';

interface Change {
  event: string;
  id: string;
  runId?: string;
  status: string;
}

/**
 * The dashboard's live events come from the database, so a socket on one hub hears about changes
 * made on another: here the agent, its run and its executions all live on hub A, the socket on B.
 */
describe.skipIf(!process.env.DATABASE_URL)('live change events across two hubs on one postgres database', () => {
  let hubA: TestHub;
  let hubB: TestHub;
  let live: LiveClient;
  let agent: Child | undefined;
  const changes: Change[] = [];

  const seen = (event: string, id: string, status: string) =>
    waitFor(() => changes.find((c) => c.event === event && c.id === id && c.status === status), { timeoutMs: 20_000, what: `${event} ${id} ${status} on hub B` });

  beforeAll(async () => {
    hubA = await TestHub.start({ database: 'postgres' });
    hubB = await TestHub.start({ database: 'postgres', replicaOf: hubA });
    live = await LiveClient.connect(hubB, await hubB.login());
    for (const event of ['agents.changed', 'runs.changed', 'executions.changed']) {
      live.socket.on(event, (batch: { items: Omit<Change, 'event'>[] }) => changes.push(...batch.items.map((item) => ({ event, ...item }))));
    }
  });

  afterAll(async () => {
    live?.close();
    await agent?.stop();
    await hubB?.destroy();
    await hubA?.destroy();
  });

  it('tells a socket on hub B about an agent, a run and its execution handled by hub A, each change once', async () => {
    const enrolled = await enrollAgent(hubA, { name: 'on-a' });
    agent = startAgent(enrolled);
    await hubA.waitForAgentStatus(enrolled.agentId, 'online');
    await seen('agents.changed', enrolled.agentId, 'online');

    const run = await hubA.api('POST', '/api/v1/runs', { command: 'echo live', target: { agentIds: [enrolled.agentId] } });
    expect(run.status).toBe(201);
    const executionId = run.body.executions[0].id as string;
    await seen('executions.changed', executionId, 'succeeded');
    await seen('runs.changed', run.body.id, 'succeeded');
    expect(changes.find((c) => c.id === executionId && c.status === 'succeeded')?.runId).toBe(run.body.id);
    const succeeded = changes.filter((c) => c.id === executionId && c.status === 'succeeded');
    expect(succeeded).toHaveLength(1);

    await agent.stop();
    await seen('agents.changed', enrolled.agentId, 'offline');
  });
});
