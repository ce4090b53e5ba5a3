import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Child } from './support/child-process';
import { crashRecoveryDatabases } from './support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

const EXECUTIONS = 20;

// DESIGN.md §4: on SIGTERM the hub stops accepting work, finishes its writes and closes sockets;
// nothing in flight is lost.
describe.each(crashRecoveryDatabases())('hub SIGTERM on %s database', (database) => {
  let hub: TestHub;
  let agent: EnrolledAgent;
  let agentProcess: Child;

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
    agent = await enrollAgent(hub);
    agentProcess = startAgent(agent, ['--max-concurrent', String(EXECUTIONS)]);
    await hub.waitForAgentStatus(agent.agentId, 'online');
  });

  afterAll(async () => {
    await agentProcess?.stop();
    await hub?.destroy();
  });

  it('exits promptly while executions run, and after a restart each result and line is stored once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < EXECUTIONS; i++) {
      const created = await hub.api('POST', '/api/v1/runs', {
        command: `echo before-${i}; sleep 2; echo after-${i}`,
        target: { agentIds: [agent.agentId] },
      });
      expect(created.status, created.text).toBe(201);
      ids.push(created.body.executions[0].id);
    }
    for (const id of ids) await hub.waitForExecution(id, ['running']);

    const stopping = Date.now();
    await hub.stop();
    // Nest re-raises the signal once it has closed: exit by SIGTERM itself (never the SIGKILL fallback), or 0.
    expect([hub.child.exitSignal, hub.child.exitCode], hub.child.output.slice(-2000)).toSatisfy(
      ([signal, code]: [string | null, number | null]) => signal === 'SIGTERM' || code === 0,
    );
    expect(Date.now() - stopping).toBeLessThan(10_000);

    await hub.launch();
    for (const [i, id] of ids.entries()) {
      const execution = await hub.waitForExecution(id, ['succeeded', 'failed', 'lost', 'canceled'], 60_000);
      expect(execution.status).toBe('succeeded');
      expect((await hub.api('GET', `/api/v1/executions/${id}/output`)).text).toBe(`before-${i}\nafter-${i}\n`);
      const chunks = (await hub.api('GET', `/api/v1/executions/${id}/output?format=jsonl`)).text.trim().split('\n');
      expect(new Set(chunks.map((line: string) => JSON.parse(line).seq)).size).toBe(chunks.length);
    }
    await waitFor(async () => (await hub.api('GET', `/api/v1/agents/${agent.agentId}`)).body.status === 'online', {
      timeoutMs: 30_000,
      what: 'the agent to reconnect',
    });
  });
});
