import { AgentToHubEvent, HubToAgentEvent } from '@outpost/protocol';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRawAgent, enrollIdentity, report, resultPayload } from './security/support/raw-agent';
import { databaseKinds } from './support/databases';
import { TestHub } from './support/test-hub';

/**
 * An agent sends a short command's result without waiting for the hub to ack its start report
 * (protocol 1.4), so the hub may store the result first. Driven by a raw protocol client that
 * sends them in that order: the result carries what the start report would have set, and the
 * start report that arrives after it is acked and changes nothing.
 */
describe.each(databaseKinds())('a result that overtakes its start report, on %s database', (database) => {
  let hub: TestHub;
  let agent: Socket;
  let agentId: string;

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
    const identity = await enrollIdentity(hub, 'raw');
    agentId = identity.agentId;
    agent = await connectRawAgent(hub, identity);
  });

  afterAll(async () => {
    agent?.disconnect();
    await hub?.destroy();
  });

  it('records the start time and pid from the result, and ignores the late start report', async () => {
    const run = await hub.api('POST', '/api/v1/runs', { command: 'true', target: { agentIds: [agentId] } });
    expect(run.status, run.text).toBe(201);
    const executionId = run.body.executions[0].id as string;
    await hub.waitForExecution(executionId, ['dispatched']);

    const startedAt = new Date(Date.now() - 5).toISOString();
    const finishedAt = new Date().toISOString();
    const result = resultPayload(executionId, { startedAt, finishedAt, outputDroppedBytes: 0, pid: 4321 });
    expect(await report(agent, AgentToHubEvent.ExecutionFinished, result)).toEqual({ ok: true });
    const settled = await hub.waitForExecution(executionId, ['succeeded']);
    expect(settled).toMatchObject({ status: 'succeeded', exitCode: 0, pid: 4321, startedAt, finishedAt });
    expect(settled.dispatchedAt).not.toBeNull();

    // The start report, late: acked, and the execution stays as the result left it.
    expect(await report(agent, AgentToHubEvent.ExecutionStarted, { executionId, pid: 9999, startedAt: finishedAt })).toEqual({ ok: true });
    expect((await hub.api('GET', `/api/v1/executions/${executionId}`)).body).toEqual(settled);
    expect((await hub.api('GET', `/api/v1/runs/${run.body.id}`)).body).toMatchObject({ status: 'succeeded' });
  });

  it('dates the dispatch at its ack, also when the result is stored before the ack is', async () => {
    const identity = await enrollIdentity(hub, 'quick');
    const quick = await connectRawAgent(hub, identity);
    // Acked by connectRawAgent's handler; the result follows 15 ms later, mostly inside the 20 ms
    // the hub lets an ack wait for a report that records it. Either way the dispatch is dated at
    // the ack, before the result was sent; dated when the result was stored, it would be after.
    const reported = new Promise<{ executionId: string; startedAt: string; ack: Promise<unknown> }>((resolve) => {
      quick.on(HubToAgentEvent.ExecutionAssign, (assign: { executionId: string }) => {
        setTimeout(() => {
          const startedAt = new Date().toISOString();
          const ack = report(quick, AgentToHubEvent.ExecutionFinished, resultPayload(assign.executionId, { startedAt, finishedAt: startedAt, pid: 77 }));
          resolve({ executionId: assign.executionId, startedAt, ack });
        }, 15);
      });
    });
    try {
      const run = await hub.api('POST', '/api/v1/runs', { command: 'true', target: { agentIds: [identity.agentId] } });
      expect(run.status, run.text).toBe(201);
      const { executionId, startedAt, ack } = await reported;
      expect(await ack).toEqual({ ok: true });
      const settled = await hub.waitForExecution(executionId, ['succeeded']);
      expect(Date.parse(settled.dispatchedAt)).toBeGreaterThanOrEqual(Date.parse(settled.createdAt));
      expect(Date.parse(settled.dispatchedAt)).toBeLessThanOrEqual(Date.parse(startedAt));
    } finally {
      quick.disconnect();
    }
  });
});
