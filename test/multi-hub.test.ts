import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, isAlive } from './support/child-process';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

// Several hubs share one PostgreSQL: whichever hub a request reaches, the hub holding the
// agent's socket acts on it (LISTEN/NOTIFY wake-ups, the database as the queue).
describe.skipIf(!process.env.DATABASE_URL)('two hubs on one postgres database', () => {
  let hubA: TestHub;
  let hubB: TestHub;
  let agent: EnrolledAgent;
  let agentProcess: Child;

  beforeAll(async () => {
    hubA = await TestHub.start({ database: 'postgres' });
    hubB = await TestHub.start({ database: 'postgres', replicaOf: hubA });
    agent = await enrollAgent(hubA, { name: 'on-hub-a' });
    agentProcess = startAgent(agent);
    await hubA.waitForAgentStatus(agent.agentId, 'online');
  });

  afterAll(async () => {
    await agentProcess?.stop();
    await hubB?.destroy();
    await hubA?.destroy();
  });

  it('a run requested through hub B reaches the agent connected to hub A', async () => {
    const created = await hubB.api('POST', '/api/v1/runs', { command: 'echo via-b', target: { agentIds: [agent.agentId] } });
    expect(created.status, created.text).toBe(201);
    const execution = await hubB.waitForExecution(created.body.executions[0].id, ['succeeded', 'failed']);
    expect(execution.status).toBe('succeeded');
    expect((await hubB.api('GET', `/api/v1/executions/${execution.id}/output`)).text).toBe('via-b\n');
  });

  it('a cancel requested through hub B stops the process tree on the agent connected to hub A', async () => {
    const created = await hubB.api('POST', '/api/v1/runs', {
      command: 'sh -c \'echo "pid $$"; sleep 300\' & echo "pid $!"; wait',
      target: { agentIds: [agent.agentId] },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.executions[0].id as string;
    const pids = await waitFor(
      async () => {
        const text = (await hubB.api('GET', `/api/v1/executions/${id}/output`)).text as string;
        const found = [...text.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
        return found.length === 2 ? found : null;
      },
      { timeoutMs: 20_000, what: 'the command to print its pids' },
    );
    const canceled = await hubB.api('POST', `/api/v1/executions/${id}/cancel`);
    expect(canceled.status, canceled.text).toBe(200);
    const execution = await hubB.waitForExecution(id, ['canceled', 'succeeded', 'failed']);
    expect(execution.status).toBe('canceled');
    await waitFor(() => pids.every((pid) => !isAlive(pid)), { timeoutMs: 10_000, what: 'the process tree to be gone' });
  });
});
