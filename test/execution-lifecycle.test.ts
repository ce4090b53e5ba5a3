import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Child, isAlive } from './support/child-process';
import { crashRecoveryDatabases, databaseKinds } from './support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

const OFFLINE_AFTER_S = 2;
const LEASE_S = 10 * OFFLINE_AFTER_S;

describe.each(databaseKinds())('execution lifecycle on %s database', (database) => {
  let hub: TestHub;
  let online: EnrolledAgent;
  let away: EnrolledAgent;
  let onlineProcess: Child;

  beforeAll(async () => {
    hub = await TestHub.start({
      database,
      embeddedTemplate: inject('embeddedTemplate'),
      env: { HUB_AGENT_OFFLINE_AFTER_S: String(OFFLINE_AFTER_S), HUB_EXECUTION_LEASE_S: String(LEASE_S) },
    });
    online = await enrollAgent(hub, { name: 'online' });
    away = await enrollAgent(hub, { name: 'away' });
    onlineProcess = startAgent(online);
    await hub.waitForAgentStatus(online.agentId, 'online');
  });

  afterAll(async () => {
    await onlineProcess?.stop();
    await hub?.destroy();
  });

  const run = async (agentId: string, body: Record<string, unknown>) => {
    const response = await hub.api('POST', '/api/v1/runs', { target: { agentIds: [agentId] }, ...body });
    expect(response.status, response.text).toBe(201);
    return response.body;
  };

  it('cancels a running sleep tree: every process gone, execution and run canceled', async () => {
    const created = await run(online.agentId, {
      command: 'echo "pid $$"; sh -c \'echo "pid $$"; sleep 300\' & sleep 300 & echo "pid $!"; wait',
    });
    const id = created.executions[0].id;
    const pids = await waitFor(
      async () => {
        const text = (await hub.api('GET', `/api/v1/executions/${id}/output`)).text as string;
        const found = [...text.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
        return found.length === 3 ? found : null;
      },
      { what: 'the tree to print its PIDs' },
    );
    expect(pids.every(isAlive)).toBe(true);
    const cancel = await hub.api('POST', `/api/v1/runs/${created.id}/cancel`);
    expect(cancel.status, cancel.text).toBe(200);
    expect(cancel.body.status).toBe('canceled');
    const execution = await hub.waitForExecution(id, ['canceled', 'failed', 'succeeded']);
    expect(execution.status).toBe('canceled');
    expect(execution.reason).toMatch(/^canceled by /);
    expect(pids.filter(isAlive)).toEqual([]);
    const again = await hub.api('POST', `/api/v1/runs/${created.id}/cancel`);
    expect(again.status).toBe(409);
  });

  it('cancels an execution its offline agent never received at once', async () => {
    const created = await run(away.agentId, { command: 'echo never' });
    const id = created.executions[0].id;
    const cancel = await hub.api('POST', `/api/v1/executions/${id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ status: 'canceled', cancelRequestedBy: expect.any(String) });
    expect((await hub.api('GET', `/api/v1/runs/${created.id}`)).body.status).toBe('failed');
  });

  it('expires an execution that could not be delivered in time', async () => {
    const created = await run(away.agentId, { command: 'echo never', deliveryTimeoutSeconds: 1 });
    const execution = await hub.waitForExecution(created.executions[0].id, ['expired'], 10_000);
    expect(execution.reason).toMatch(/^not delivered by /);
    expect((await hub.waitForRun(created.id)).status).toBe('failed');
  });

  it.runIf(crashRecoveryDatabases().includes(database))('marks an execution lost when its agent is killed and stays away past the lease', async () => {
    const victim = await enrollAgent(hub, { name: 'victim' });
    const victimProcess = startAgent(victim);
    await hub.waitForAgentStatus(victim.agentId, 'online');
    const created = await run(victim.agentId, { command: 'sleep 300' });
    const id = created.executions[0].id;
    await hub.waitForExecution(id, ['running']);
    await victimProcess.stop('SIGKILL');
    await hub.waitForAgentStatus(victim.agentId, 'offline', OFFLINE_AFTER_S * 3 * 1000);
    // Offline is not lost: the lease is ten times longer, so a short partition loses nothing.
    expect((await hub.api('GET', `/api/v1/executions/${id}`)).body.status).toBe('running');
    const lost = await hub.waitForExecution(id, ['lost'], (LEASE_S + 10) * 1000);
    expect(lost.reason).toBe('agent_lost');
    expect((await hub.waitForRun(created.id)).status).toBe('failed');
  }, 90_000);

  it('lists runs and executions with filters and pagination', async () => {
    const runs = await hub.api('GET', '/api/v1/runs?status=canceled&limit=5');
    expect(runs.status).toBe(200);
    expect(runs.body.items.length).toBeGreaterThanOrEqual(1);
    expect(runs.body.items.every((r: any) => r.status === 'canceled')).toBe(true);
    const executions = await hub.api('GET', `/api/v1/executions?agentId=${away.agentId}&status=expired,canceled&sort=createdAt&order=asc`);
    expect(executions.body.items.map((e: any) => e.status)).toEqual(['canceled', 'expired']);
    expect(executions.body.total).toBe(2);
    const bad = await hub.api('GET', '/api/v1/executions?status=sleeping');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toMatch(/^status/);
  });
});
