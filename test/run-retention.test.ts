import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Child } from './support/child-process';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

const RETENTION_DAYS = 0.00005; // 4.32 s, pruned every ~1 s
const RETENTION_MS = RETENTION_DAYS * 86_400_000;

describe('run retention (HUB_RUN_RETENTION_DAYS)', () => {
  let hub: TestHub;
  let agent: EnrolledAgent;
  let agentProcess: Child;

  beforeAll(async () => {
    hub = await TestHub.start({
      database: 'embedded',
      embeddedTemplate: inject('embeddedTemplate'),
      env: { HUB_RUN_RETENTION_DAYS: String(RETENTION_DAYS) },
    });
    agent = await enrollAgent(hub);
    agentProcess = startAgent(agent);
    await hub.waitForAgentStatus(agent.agentId, 'online');
  });

  afterAll(async () => {
    await agentProcess?.stop();
    await hub?.destroy();
  });

  it('prunes finished runs past retention with their executions and output, never a run still going', async () => {
    const run = async (command: string) => {
      const response = await hub.api('POST', '/api/v1/runs', { command, target: { agentIds: [agent.agentId] } });
      expect(response.status, response.text).toBe(201);
      return { runId: response.body.id as string, executionId: response.body.executions[0].id as string, createdAt: Date.parse(response.body.createdAt) };
    };
    const finished = await run('echo old');
    const going = await run('sleep 20');
    await hub.waitForExecution(finished.executionId, ['succeeded']);
    await hub.waitForExecution(going.executionId, ['running']);

    await waitFor(async () => (await hub.api('GET', `/api/v1/runs/${finished.runId}`)).status === 404, {
      timeoutMs: 30_000,
      what: 'the finished run to be pruned',
    });
    expect(Date.now() - finished.createdAt).toBeGreaterThanOrEqual(RETENTION_MS);
    expect((await hub.api('GET', `/api/v1/executions/${finished.executionId}`)).status).toBe(404);
    expect((await hub.api('GET', `/api/v1/executions/${finished.executionId}/output`)).status).toBe(404);

    // Older than the retention too, but still running: kept.
    await waitFor(() => Date.now() - going.createdAt > RETENTION_MS + 3_000, { timeoutMs: 20_000, what: 'the running run to pass retention' });
    const kept = await hub.api('GET', `/api/v1/runs/${going.runId}`);
    expect(kept.status).toBe(200);
    expect(kept.body.status).toBe('running');
    await hub.api('POST', `/api/v1/runs/${going.runId}/cancel`);
  });
});
