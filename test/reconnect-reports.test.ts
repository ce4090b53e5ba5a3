import { isDeepStrictEqual } from 'node:util';
import { AgentToHubEvent } from '@outpost/protocol';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRawAgent, enrollIdentity, report, welcomeOf } from './security/support/raw-agent';
import { databaseKinds } from './support/databases';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

/**
 * Every agent sends its facts and its inventory on each connect (as events up to protocol 1.4, in
 * the handshake from 1.5), and a fleet reconnecting after a hub restart sends thousands of each at
 * once: the hub takes them in batches. Agents in one batch
 * must each be judged by their own inventory, and facts that changed since the last connect
 * must be stored (the batch skips facts that did not).
 */
describe.each(databaseKinds())('reports of agents reconnecting together, on %s database', (database) => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  it('stores the facts an agent sends on each connect when they changed', async () => {
    const identity = await enrollIdentity(hub, 'facts-change');
    const facts = (agentVersion: string) => ({
      hostname: 'facts-change', os: 'linux', platform: 'linux', distro: 'Debian GNU/Linux', release: '12',
      kernel: '6.1.0', arch: 'x64', cpuModel: 'test cpu', cpuCores: 2, memTotalBytes: 8e9, ipAddresses: ['192.0.2.7'], agentVersion,
    });
    const storedFacts = async () => (await hub.api('GET', `/api/v1/agents/${identity.agentId}`)).body.facts;
    for (const version of ['1.0.0', '1.0.0', '1.1.0']) {
      const socket = await connectRawAgent(hub, identity);
      try {
        expect(await report(socket, AgentToHubEvent.Facts, facts(version))).toEqual({ ok: true });
        expect(await storedFacts()).toEqual(facts(version));
      } finally {
        socket.disconnect();
      }
    }
  });

  it('takes the facts and the inventory that a 1.5 handshake carries, as it takes the events', async () => {
    const identity = await enrollIdentity(hub, 'handshake-reports');
    const first = await connectRawAgent(hub, identity);
    const run = await hub.api('POST', '/api/v1/runs', { command: 'sleep 60', target: { agentIds: [identity.agentId] } });
    expect(run.status, run.text).toBe(201);
    const executionId = run.body.executions[0].id as string;
    await hub.waitForExecution(executionId, ['dispatched']);
    first.disconnect();

    const facts = {
      hostname: 'handshake-reports', os: 'linux', platform: 'linux', distro: 'Debian GNU/Linux', release: '12',
      kernel: '6.1.0', arch: 'x64', cpuModel: 'test cpu', cpuCores: 4, memTotalBytes: 8e9, ipAddresses: ['192.0.2.8'], agentVersion: '1.5.0-test',
    };
    const again = await connectRawAgent(hub, identity, { reports: { facts, inventory: { running: [], results: [] } } });
    try {
      expect(welcomeOf(again)).toMatchObject({ handshakeReports: true });
      // No event was sent: only the handshake's inventory can end it, and this soon.
      expect(await hub.waitForExecution(executionId, ['lost'])).toMatchObject({ reason: expect.stringMatching(/^agent_lost: the reconnected agent/) });
      await waitFor(async () => isDeepStrictEqual((await hub.api('GET', `/api/v1/agents/${identity.agentId}`)).body.facts, facts), {
        what: 'the facts from the handshake stored',
      });
    } finally {
      again.disconnect();
    }
  });

  it('keeps an agent whose handshake reports are invalid, and says so in its log', async () => {
    const identity = await enrollIdentity(hub, 'bad-reports');
    const socket = await connectRawAgent(hub, identity, { reports: { facts: { hostname: 42 }, inventory: { running: ['not-an-id'] } } });
    try {
      expect(socket.connected).toBe(true);
      await waitFor(() => hub.child.output.includes('invalid reports in the handshake'), { what: 'the warning' });
      expect((await hub.api('GET', `/api/v1/agents/${identity.agentId}`)).body).toMatchObject({ status: 'online', facts: null });
    } finally {
      socket.disconnect();
    }
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
