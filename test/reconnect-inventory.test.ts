import { AgentToHubEvent } from '@outpost/protocol';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRawAgent, enrollIdentity, report } from './security/support/raw-agent';
import { databaseKinds } from './support/databases';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

/**
 * A fleet reconnecting after a hub restart sends thousands of inventories at once, and the hub
 * reconciles them in batches (ExecutionReconciler). Agents in one batch must each be judged by
 * their own inventory: one that still runs its execution keeps it, the one beside it that lost
 * its process has its execution ended `lost` at once.
 */
describe.each(databaseKinds())('inventories of agents reconnecting together, on %s database', (database) => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  it('ends lost only the executions that their own agent no longer holds', async () => {
    const identities = await Promise.all(['keeps', 'restarted', 'holds-result'].map((name) => enrollIdentity(hub, `inventory-${name}`)));
    const first = await Promise.all(identities.map((identity) => connectRawAgent(hub, identity)));
    const executionIds: string[] = [];
    for (const identity of identities) {
      const run = await hub.api('POST', '/api/v1/runs', { command: 'sleep 60', target: { agentIds: [identity.agentId] } });
      expect(run.status, run.text).toBe(201);
      executionIds.push(run.body.executions[0].id as string);
    }
    const [kept, restarted, resultHeld] = executionIds as [string, string, string];
    for (const id of executionIds) {
      await waitFor(async () => (await hub.api('GET', `/api/v1/executions/${id}`)).body.status === 'dispatched', { what: `execution ${id} acked` });
    }
    for (const socket of first) socket.disconnect();

    const again = await Promise.all(identities.map((identity) => connectRawAgent(hub, identity)));
    try {
      // Sent in one turn of the event loop, as a reconnecting fleet's arrive: one batch.
      const acks = await Promise.all([
        report(again[0]!, AgentToHubEvent.Inventory, { running: [kept], results: [] }),
        report(again[1]!, AgentToHubEvent.Inventory, { running: [], results: [] }),
        report(again[2]!, AgentToHubEvent.Inventory, { running: [], results: [resultHeld] }),
      ]);
      expect(acks).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      const status = async (id: string) => (await hub.api('GET', `/api/v1/executions/${id}`)).body;
      expect(await status(restarted)).toMatchObject({ status: 'lost', reason: expect.stringMatching(/^agent_lost: the reconnected agent/) });
      expect(await status(kept)).toMatchObject({ status: 'dispatched' });
      expect(await status(resultHeld)).toMatchObject({ status: 'dispatched' });
    } finally {
      for (const socket of again) socket.disconnect();
    }
  });
});
