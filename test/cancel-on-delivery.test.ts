import { AgentToHubEvent, HubToAgentEvent } from '@outpost/protocol';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AgentIdentity, connectRawAgent, enrollIdentity, report } from './security/support/raw-agent';
import { databaseKinds } from './support/databases';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

/**
 * A cancel can overtake the delivery it is for: the execution is still `queued` in the database
 * while its assign is on its way to the agent, or while the agent's ack waits to be written. The
 * cancel then ends it at once, as undelivered, but the agent has it and would run it to the end.
 * Driven by a raw protocol client that holds its ack until the cancel has ended the execution:
 * when the ack, or a start report, or a reconnect's inventory shows that the agent holds a
 * canceled execution, the hub tells the agent to stop it.
 */
describe.each(databaseKinds())('a cancel that overtakes the dispatch, on %s database', (database) => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  /** A raw agent that acks each assign only after `beforeAck` has run, and keeps the cancels it is sent. */
  async function agentHoldingAcks(identity: AgentIdentity, beforeAck: (executionId: string) => Promise<void>) {
    const socket = await connectRawAgent(hub, identity);
    const cancels: string[] = [];
    socket.off(HubToAgentEvent.ExecutionAssign);
    socket.on(HubToAgentEvent.ExecutionAssign, (assign: { executionId: string }, ack: (a: unknown) => void) => {
      void beforeAck(assign.executionId).then(() => ack({ ok: true }));
    });
    socket.on(HubToAgentEvent.ExecutionCancel, (cancel: { executionId: string }, ack: (a: unknown) => void) => {
      cancels.push(cancel.executionId);
      ack({ ok: true });
    });
    return { socket, cancels };
  }

  async function cancelWhileQueued(executionId: string): Promise<void> {
    const canceled = await hub.api('POST', `/api/v1/executions/${executionId}/cancel`);
    expect(canceled.status, canceled.text).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'canceled', dispatchedAt: null });
  }

  async function runOn(agentId: string): Promise<string> {
    const run = await hub.api('POST', '/api/v1/runs', { command: 'sleep 60', target: { agentIds: [agentId] } });
    expect(run.status, run.text).toBe(201);
    return run.body.executions[0].id as string;
  }

  it('stops an execution acked after the cancel ended it, and records that it was delivered', async () => {
    const identity = await enrollIdentity(hub, 'late-ack');
    const agent = await agentHoldingAcks(identity, cancelWhileQueued);
    try {
      const executionId = await runOn(identity.agentId);
      await waitFor(() => agent.cancels.includes(executionId), { what: 'the cancel sent after the ack' });
      const execution = (await hub.api('GET', `/api/v1/executions/${executionId}`)).body;
      expect(execution).toMatchObject({ status: 'canceled', reason: expect.stringMatching(/as it was delivered; stopped on the host$/) });
      expect(execution.dispatchedAt).not.toBeNull();
    } finally {
      agent.socket.disconnect();
    }
  });

  it('stops an execution whose start report arrives after the cancel ended it', async () => {
    const identity = await enrollIdentity(hub, 'late-start');
    let socket: Socket | undefined;
    const started: Promise<unknown>[] = [];
    const agent = await agentHoldingAcks(identity, async (executionId) => {
      await cancelWhileQueued(executionId);
      // Reported at once after the ack, as a command that prints at once would: mostly before
      // the hub writes the ack, so the start report is the first news that the agent holds it.
      setImmediate(() => started.push(report(socket!, AgentToHubEvent.ExecutionStarted, { executionId, pid: 4242, startedAt: new Date().toISOString() })));
    });
    socket = agent.socket;
    try {
      const executionId = await runOn(identity.agentId);
      await waitFor(() => agent.cancels.includes(executionId), { what: 'the cancel sent after the start report' });
      expect(await Promise.all(started)).toEqual([{ ok: true }]);
      expect((await hub.api('GET', `/api/v1/executions/${executionId}`)).body).toMatchObject({ status: 'canceled' });
    } finally {
      socket.disconnect();
    }
  });

  it('stops a canceled execution that a reconnecting agent lists as running', async () => {
    const identity = await enrollIdentity(hub, 'inventory');
    // Queued for an agent that is not connected, and canceled there: ended as undelivered.
    const executionId = await runOn(identity.agentId);
    await cancelWhileQueued(executionId);
    const agent = await agentHoldingAcks(identity, async () => undefined);
    try {
      expect(await report(agent.socket, AgentToHubEvent.Inventory, { running: [executionId], results: [] })).toEqual({ ok: true });
      await waitFor(() => agent.cancels.includes(executionId), { what: 'the cancel sent after the inventory' });
    } finally {
      agent.socket.disconnect();
    }
  });
});
