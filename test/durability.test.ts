import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Child } from './support/child-process';
import { crashRecoveryDatabases } from './support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

/**
 * Lets every command blocked reading `fifo` go on: opening it for writing and closing it gives
 * each reader end of file. Repeated by the caller until all have gone, since a command that
 * opens it later would wait for the next writer.
 */
function release(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader right now
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Lines the agent logged about one execution (JSON lines on its stderr). */
function agentLog(agent: Child, executionId: string, msg: string): number {
  return agent.output.split('\n').filter((line) => line.includes(executionId) && line.includes(`"msg":"${msg}"`)).length;
}

describe.each(crashRecoveryDatabases())('delivery and durability on %s database', (database) => {
  let hub: TestHub;
  const enrolled: EnrolledAgent[] = [];
  const processes: Child[] = [];
  /** Process groups of commands an agent killed with SIGKILL left behind. */
  const orphans: number[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
  });

  afterEach(async () => {
    for (const pgid of orphans.splice(0)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(processes.splice(0).map((child) => child.stop()));
  });

  afterAll(async () => {
    await hub?.destroy();
    for (const agent of enrolled) rmSync(agent.dataDir, { recursive: true, force: true });
  });

  async function agentUp(name: string, args: string[] = []): Promise<{ agent: EnrolledAgent; child: Child }> {
    const agent = await enrollAgent(hub, { name });
    enrolled.push(agent);
    const child = startAgent(agent, args);
    processes.push(child);
    await hub.waitForAgentStatus(agent.agentId, 'online');
    return { agent, child };
  }

  function restart(agent: EnrolledAgent, args: string[] = []): Child {
    const child = startAgent(agent, args);
    processes.push(child);
    return child;
  }

  const run = async (agentId: string, body: Record<string, unknown>): Promise<string> => {
    const response = await hub.api('POST', '/api/v1/runs', { target: { agentIds: [agentId] }, ...body });
    expect(response.status, response.text).toBe(201);
    return response.body.executions[0].id as string;
  };

  /** Stored chunks as JSON lines: each (execution, seq) once, by construction of the key. */
  const chunks = async (id: string): Promise<Array<{ seq: number }>> => {
    const text = (await hub.api('GET', `/api/v1/executions/${id}/output?format=jsonl`)).text as string;
    return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line));
  };

  it('loses and repeats nothing when the agent is cut off past the offline bound, within the lease', async () => {
    const { agent, child } = await agentUp('suspended');
    const lines = 400;
    const id = await run(agent.agentId, { command: `for i in $(seq 1 ${lines}); do echo "line $i"; sleep 0.05; done` });
    await waitFor(async () => (await hub.api('GET', `/api/v1/executions/${id}/output`)).text.includes('line 5\n'), {
      what: 'the first lines',
    });
    // SIGSTOP freezes the agent and its socket; the command, in its own process group, keeps printing.
    process.kill(child.pid, 'SIGSTOP');
    try {
      await hub.waitForAgentStatus(agent.agentId, 'offline', 10_000);
      // Held until the hub drops the silent socket too (socket.io's ping timeout): a real cut, so
      // the agent must reconnect, resend what was not acked and report what it runs.
      await waitFor(
        () => hub.child.output.split('\n').some((line) => line.includes('agent disconnected') && line.includes(agent.agentId)),
        { timeoutMs: 40_000, what: 'the hub to drop the connection' },
      );
      expect((await hub.api('GET', `/api/v1/executions/${id}`)).body.status).toBe('running');
    } finally {
      process.kill(child.pid, 'SIGCONT');
    }
    const execution = await hub.waitForExecution(id, ['succeeded', 'failed', 'lost'], 60_000);
    // Not `late_result`: nothing took the execution for lost in between.
    expect(execution).toMatchObject({ status: 'succeeded', exitCode: 0, attempt: 1, reason: 'exit code 0' });
    const expected = Array.from({ length: lines }, (_, i) => `line ${i + 1}\n`).join('');
    expect((await hub.api('GET', `/api/v1/executions/${id}/output`)).text).toBe(expected);
    const stored = await chunks(id);
    expect(stored.map((chunk) => chunk.seq)).toEqual([...Array(stored.length).keys()]);
    const details = (await hub.api('GET', `/api/v1/runs/${execution.runId}`)).body;
    expect(details.executions).toHaveLength(1);
    expect(agentLog(child, id, 'execution started')).toBe(1);
    // Once when it first connected, once after the cut.
    expect(child.output.split('"msg":"inventory sent"').length - 1).toBe(2);
  }, 120_000);

  it('ends at once, as lost, an execution that a restarted agent no longer has, and stops the command it left', async () => {
    const { agent, child } = await agentUp('crashing');
    const id = await run(agent.agentId, { command: 'echo "pgid $$"; sleep 60' });
    const pgid = await waitFor(
      async () => /pgid (\d+)/.exec((await hub.api('GET', `/api/v1/executions/${id}/output`)).text)?.[1],
      { what: 'the command to print its process group' },
    );
    orphans.push(Number(pgid));
    await child.stop('SIGKILL');
    const restartedAt = Date.now();
    restart(agent);
    // The lease is 600 s: only the restarted agent's inventory can end it this soon.
    const lost = await hub.waitForExecution(id, ['lost', 'succeeded', 'failed'], 30_000);
    expect(Date.now() - restartedAt).toBeLessThan(30_000);
    expect(lost.status).toBe('lost');
    expect(lost.reason).toMatch(/neither runs it nor holds its result/);
    // The run settles in its own statement, a moment after its last execution ended: it ends as it does.
    const ended = await hub.api('GET', `/api/v1/runs/${lost.runId}?wait=10`);
    expect(ended.body.status).toBe('failed');
    // The `sleep 60` outlived the killed agent; the restarted one stops its group.
    await waitFor(() => !groupAlive(Number(pgid)), { timeoutMs: 15_000, what: `process group ${pgid} to be stopped` });
  }, 60_000);

  it('settles from the agent spool a result that outlived both the hub and the agent', async () => {
    const { agent, child } = await agentUp('spooling');
    const id = await run(agent.agentId, { command: 'echo before; sleep 2; echo after' });
    await hub.waitForExecution(id, ['running']);
    await hub.kill9();
    await waitFor(() => agentLog(child, id, 'execution finished') === 1, { timeoutMs: 20_000, what: 'the command to end' });
    // The result is only in the spool now; the process that holds it in memory goes too.
    await child.stop('SIGKILL');
    await hub.launch();
    restart(agent);
    const execution = await hub.waitForExecution(id, ['succeeded', 'failed', 'lost'], 60_000);
    expect(execution).toMatchObject({ status: 'succeeded', exitCode: 0, reason: 'exit code 0' });
    expect((await hub.api('GET', `/api/v1/executions/${id}/output`)).text).toBe('before\nafter\n');
  }, 120_000);

  it('stores every result and line exactly once when the hub is killed while 100 executions run', async () => {
    const perAgent = 50;
    const agents = await Promise.all(
      ['fleet-a', 'fleet-b'].map((name) => agentUp(name, ['--max-concurrent', String(perAgent)])),
    );
    const count = async (status: string) => {
      let total = 0;
      for (const { agent } of agents) {
        total += (await hub.api('GET', `/api/v1/executions?status=${status}&agentId=${agent.agentId}&limit=1`)).body.total;
      }
      return total;
    };
    const gate = mkdtempSync(path.join(os.tmpdir(), 'outpost-gate-'));
    const fifo = path.join(gate, 'go');
    execFileSync('mkfifo', [fifo]);
    try {
      const ids: string[] = [];
      for (let i = 0; i < perAgent * agents.length; i += 1) {
        ids.push(await run(agents[i % agents.length].agent.agentId, { command: `cat '${fifo}'; echo done-${i}` }));
      }
      await waitFor(async () => (await count('running')) === ids.length, {
        timeoutMs: 30_000,
        what: `all ${ids.length} executions to be running`,
      });
      await hub.kill9();
      // Every command ends while the hub is down: the agents hold the results.
      const finished = () => agents.reduce((sum, { child }) => sum + child.output.split('"msg":"execution finished"').length - 1, 0);
      await waitFor(
        () => {
          release(fifo);
          return finished() === ids.length;
        },
        { timeoutMs: 30_000, what: 'every command to end' },
      );
      await hub.launch();
      await waitFor(async () => (await count('succeeded')) === ids.length, {
        timeoutMs: 60_000,
        what: 'every result to be stored',
      });
      expect(await count('queued,dispatched,running,lost,failed')).toBe(0);
      await checkEach(ids);
    } finally {
      release(fifo);
      rmSync(gate, { recursive: true, force: true });
    }
    for (const { child } of agents) {
      expect(child.output.split('"msg":"execution started"').length - 1).toBe(perAgent);
    }
  }, 240_000);

  async function checkEach(ids: string[]): Promise<void> {
    for (const [i, id] of ids.entries()) {
      expect((await hub.api('GET', `/api/v1/executions/${id}/output`)).text).toBe(`done-${i}\n`);
      const execution = (await hub.api('GET', `/api/v1/executions/${id}`)).body;
      // Not `late_result`: the reconnecting agents' inventories vouched for every one of them.
      expect(execution).toMatchObject({ attempt: 1, reason: 'exit code 0' });
      expect((await chunks(id)).map((chunk) => chunk.seq)).toEqual([0]);
    }
  }
});
