import { AgentToHubEvent } from '@outpost/protocol';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseKinds } from '../support/databases';
import { waitFor } from '../support/wait';
import { TestHub } from '../support/test-hub';
import { connectRawAgent, enrollIdentity, report, resultPayload } from './support/raw-agent';

const NOT_YOURS = { ok: false, error: { code: 'NOT_FOUND' } };

/**
 * Two authenticated agents (raw protocol clients with real enrolled identities): the intruder
 * reports start, output and results for the owner's execution. The hub refuses each report,
 * logs it with both ids, and changes nothing; the owner then settles the execution as usual.
 */
describe.each(databaseKinds())('an agent reporting on another agent’s execution, on %s database', (database) => {
  let hub: TestHub;
  let owner: Socket;
  let intruder: Socket;
  let intruderId: string;
  let ownerId: string;

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
    const [ownerIdentity, intruderIdentity] = [await enrollIdentity(hub, 'owner'), await enrollIdentity(hub, 'intruder')];
    ownerId = ownerIdentity.agentId;
    intruderId = intruderIdentity.agentId;
    owner = await connectRawAgent(hub, ownerIdentity);
    intruder = await connectRawAgent(hub, intruderIdentity);
  });

  afterAll(async () => {
    owner?.disconnect();
    intruder?.disconnect();
    await hub?.destroy();
  });

  /** What an intruder must not change: the execution row, its output, and its run. */
  async function snapshot(executionId: string, runId: string) {
    const execution = (await hub.api('GET', `/api/v1/executions/${executionId}`)).body;
    const output = (await hub.api('GET', `/api/v1/executions/${executionId}/output?format=jsonl`)).text;
    const run = (await hub.api('GET', `/api/v1/runs/${runId}`)).body;
    return { execution, output, run: { status: run.status, finishedAt: run.finishedAt } };
  }

  async function intrude(executionId: string) {
    const now = new Date().toISOString();
    const acks = [
      await report(intruder, AgentToHubEvent.ExecutionStarted, { executionId, pid: 4242, startedAt: now }),
      await report(intruder, AgentToHubEvent.ExecutionOutput, { executionId, seq: 0, stream: 'stdout', offset: 0, data: Buffer.from('forged\n'), at: now }),
      await report(intruder, AgentToHubEvent.ExecutionOutput, { executionId, seq: 7, stream: 'stderr', offset: 0, data: Buffer.from('forged\n') }),
      await report(intruder, AgentToHubEvent.ExecutionFinished, resultPayload(executionId, { status: 'failed', exitCode: 66, reason: 'forged', startedAt: now, finishedAt: now, outputChunks: 8 })),
    ];
    // An inventory names only what the intruder holds: it can end nothing of the owner's.
    acks.push(await report(intruder, AgentToHubEvent.Inventory, { running: [executionId], results: [] }));
    return acks;
  }

  it('refuses and logs every report, changes no row, and the owner still settles the execution', async () => {
    const run = await hub.api('POST', '/api/v1/runs', { command: 'echo owner', target: { agentIds: [ownerId] } });
    expect(run.status, run.text).toBe(201);
    const executionId = run.body.executions[0].id as string;
    await hub.waitForExecution(executionId, ['dispatched']);

    // Dispatched, not yet started: nothing the intruder sends may start, fill or end it.
    const dispatched = await snapshot(executionId, run.body.id);
    const acksWhileDispatched = await intrude(executionId);
    expect(acksWhileDispatched.slice(0, 4)).toMatchObject([NOT_YOURS, NOT_YOURS, NOT_YOURS, NOT_YOURS]);
    expect(await snapshot(executionId, run.body.id)).toEqual(dispatched);

    // Running on its owner: still nothing.
    const startedAt = new Date().toISOString();
    expect(await report(owner, AgentToHubEvent.ExecutionStarted, { executionId, pid: 1234, startedAt })).toEqual({ ok: true });
    const running = await snapshot(executionId, run.body.id);
    expect(running.execution).toMatchObject({ status: 'running', agentId: ownerId, startedAt });
    await intrude(executionId);
    expect(await snapshot(executionId, run.body.id)).toEqual(running);

    // Each refusal is logged, structured, naming the intruder and the execution (the hub's
    // stdout reaches this process through a pipe, so the last lines may still be on their way).
    const refusedReports = () =>
      hub.child.output
        .split('\n')
        .filter((line) => line.includes('agent report refused'))
        .map((line) => JSON.parse(line) as { agentId: string; executionId: string; report: string })
        .filter((r) => r.agentId === intruderId && r.executionId === executionId)
        .map((r) => r.report)
        .sort();
    await waitFor(() => refusedReports().length >= 8, { timeoutMs: 10_000, what: 'eight refusals in the hub log' });
    expect(refusedReports()).toEqual(
      ['finished', 'finished', 'output', 'output', 'output', 'output', 'started', 'started'],
    );

    // The owner settles it normally, with its own output only.
    const finishedAt = new Date().toISOString();
    expect(
      await report(owner, AgentToHubEvent.ExecutionOutput, { executionId, seq: 0, stream: 'stdout', offset: 0, data: Buffer.from('owner\n') }),
    ).toEqual({ ok: true });
    expect(
      await report(owner, AgentToHubEvent.ExecutionFinished, resultPayload(executionId, { startedAt, finishedAt, outputChunks: 1 })),
    ).toEqual({ ok: true });
    const settled = await hub.waitForExecution(executionId, ['succeeded']);
    expect(settled).toMatchObject({ agentId: ownerId, exitCode: 0, startedAt, finishedAt, reason: 'exit code 0' });
    expect((await hub.api('GET', `/api/v1/executions/${executionId}/output`)).text).toBe('owner\n');
    expect((await hub.waitForRun(run.body.id)).status).toBe('succeeded');

    // And once final, the intruder still cannot touch it.
    const final = await snapshot(executionId, run.body.id);
    await intrude(executionId);
    expect(await snapshot(executionId, run.body.id)).toEqual(final);
  });

  it('refuses reports about an execution that does not exist', async () => {
    const executionId = randomUUID();
    const acks = await intrude(executionId);
    expect(acks.slice(0, 4)).toMatchObject([NOT_YOURS, NOT_YOURS, NOT_YOURS, NOT_YOURS]);
    expect((await hub.api('GET', `/api/v1/executions/${executionId}`)).status).toBe(404);
    expect((await hub.api('GET', `/api/v1/executions/${executionId}/output?format=jsonl`)).status).toBe(404);
  });
});
