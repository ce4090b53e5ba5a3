import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION } from '@outpost/protocol';
import { readFileSync } from 'node:fs';
import type { Child } from './support/child-process';
import { databaseKinds } from './support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

/** Tries a raw socket.io handshake; resolves with the refusal's code, or 'connected'. */
function handshake(hub: TestHub, auth: Record<string, unknown>, namespace = AGENT_NAMESPACE): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(`${hub.url}${namespace}`, { transports: ['websocket'], reconnection: false, auth });
    socket.on('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.on('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
      socket.disconnect();
      resolve(`${error.data?.code ?? 'transport'}: ${error.data?.message ?? error.message}`);
    });
  });
}

/** Alive and not a zombie: PID 1 in some sandboxes never reaps orphans, and a zombie runs nothing. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.each(databaseKinds())('walking skeleton on %s database', (database) => {
  let hub: TestHub;
  let first: EnrolledAgent;
  let second: EnrolledAgent;
  const agents: Child[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
    first = await enrollAgent(hub, { labels: { role: 'web' }, name: 'first' });
    second = await enrollAgent(hub, { labels: { role: 'db' }, name: 'second' });
    agents.push(startAgent(first), startAgent(second));
    await hub.waitForAgentStatus(first.agentId, 'online');
    await hub.waitForAgentStatus(second.agentId, 'online');
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.destroy();
  });

  async function runOn(agentId: string, body: Record<string, unknown>) {
    const response = await hub.api('POST', '/api/v1/runs', { target: { agentIds: [agentId] }, ...body });
    expect(response.status, response.text).toBe(201);
    return response.body.executions[0].id as string;
  }

  it('lists both agents online with the labels of their enrollment tokens', async () => {
    const list = await hub.api('GET', '/api/v1/agents?limit=10');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    const byName = Object.fromEntries(list.body.items.map((a: any) => [a.name, a]));
    expect(byName.first).toMatchObject({ id: first.agentId, status: 'online', labels: { role: 'web' } });
    expect(byName.second).toMatchObject({ id: second.agentId, status: 'online', labels: { role: 'db' } });
    expect(byName.first.lastSeenAt).not.toBeNull();
    const filtered = await hub.api('GET', '/api/v1/agents?labels=role=db');
    expect(filtered.body.items.map((a: any) => a.id)).toEqual([second.agentId]);
  });

  it('runs echo hello: succeeded, exit code 0, stdout "hello\\n"', async () => {
    const id = await runOn(first.agentId, { command: 'echo hello' });
    const execution = await hub.waitForExecution(id, ['succeeded', 'failed', 'timed_out']);
    expect(execution).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(execution.durationMs).toBeGreaterThanOrEqual(0);
    const stdout = await hub.api('GET', `/api/v1/executions/${id}/output?stream=stdout`);
    expect(stdout.text).toBe('hello\n');
    expect((await hub.waitForRun(execution.runId)).status).toBe('succeeded');
  });

  it('keeps a failing command failed with its exit code and stderr', async () => {
    const id = await runOn(second.agentId, { command: 'echo out; echo "went wrong" >&2; exit 3' });
    const execution = await hub.waitForExecution(id, ['succeeded', 'failed', 'timed_out']);
    expect(execution).toMatchObject({ status: 'failed', exitCode: 3 });
    expect((await hub.api('GET', `/api/v1/executions/${id}/output?stream=stderr`)).text).toBe('went wrong\n');
    expect((await hub.api('GET', `/api/v1/executions/${id}/output?stream=stdout`)).text).toBe('out\n');
    expect((await hub.api('GET', `/api/v1/executions/${id}/output`)).text).toBe('out\nwent wrong\n');
    expect((await hub.waitForRun(execution.runId)).status).toBe('failed');
  });

  it('answers GET /api/v1/runs/:id?wait= as the run ends, or when the wait is over', async () => {
    const quick = await hub.api('POST', '/api/v1/runs', { target: { agentIds: [first.agentId] }, command: 'sleep 1; echo done' });
    const asked = Date.now();
    const ended = await hub.api('GET', `/api/v1/runs/${quick.body.id}?wait=60`);
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ status: 'succeeded', finishedAt: expect.any(String) });
    expect(ended.body.executions.map((e: any) => e.status)).toEqual(['succeeded']);
    // Answered by the run's end, long before the wait would have run out.
    expect(Date.now() - asked).toBeLessThan(30_000);

    const slow = await hub.api('POST', '/api/v1/runs', { target: { agentIds: [second.agentId] }, command: 'sleep 60' });
    const waitedFrom = Date.now();
    const unfinished = await hub.api('GET', `/api/v1/runs/${slow.body.id}?wait=1`);
    expect(unfinished.status).toBe(200);
    expect(['pending', 'running']).toContain(unfinished.body.status);
    expect(unfinished.body.finishedAt).toBeNull();
    expect(Date.now() - waitedFrom).toBeGreaterThanOrEqual(900);
    // A cancel through the API wakes a waiter at once.
    const waiting = hub.api('GET', `/api/v1/runs/${slow.body.id}?wait=60`);
    expect((await hub.api('POST', `/api/v1/runs/${slow.body.id}/cancel`)).status).toBe(200);
    expect((await waiting).body.status).toBe('canceled');

    for (const bad of ['61', '-1', 'soon']) {
      const refused = await hub.api('GET', `/api/v1/runs/${quick.body.id}?wait=${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('answers POST /api/v1/runs?wait= and POST /api/v1/jobs/:id/run?wait= with the ended run, the start audited at once', async () => {
    const quick = await hub.api('POST', '/api/v1/runs?wait=60', { target: { agentIds: [first.agentId] }, command: 'echo done' });
    expect(quick.status, quick.text).toBe(201);
    expect(quick.body).toMatchObject({ status: 'succeeded', finishedAt: expect.any(String) });
    expect(quick.body.executions.map((e: any) => e.status)).toEqual(['succeeded']);
    expect((await hub.api('GET', `/api/v1/executions/${quick.body.executions[0].id}/output`)).text).toBe('done\n');

    const job = await hub.api('POST', '/api/v1/jobs', { name: 'waited', command: 'exit 3', target: { agentIds: [first.agentId] } });
    expect(job.status, job.text).toBe(201);
    const jobRun = await hub.api('POST', `/api/v1/jobs/${job.body.id}/run?wait=60`, {});
    expect(jobRun.status, jobRun.text).toBe(201);
    expect(jobRun.body).toMatchObject({ jobId: job.body.id, status: 'failed', executions: [{ status: 'failed', exitCode: 3 }] });

    // A waiting start is in the audit while its run still runs, not only once it answers.
    const waiting = hub.api('POST', '/api/v1/runs?wait=60', { target: { agentIds: [second.agentId] }, command: 'sleep 60' });
    const running = await waitFor(
      async () => (await hub.api('GET', '/api/v1/runs?status=running')).body.items.find((r: any) => r.command === 'sleep 60' && r.target.agentIds?.[0] === second.agentId),
      { timeoutMs: 20_000, what: 'the waited run to be running' },
    );
    await waitFor(
      async () => (await hub.api('GET', `/api/v1/audit?action=run.create&targetId=${running.id}`)).body.total === 1,
      { timeoutMs: 10_000, what: 'the waited start in the audit' },
    );
    expect((await hub.api('GET', `/api/v1/audit?action=run.create&targetId=${running.id}`)).body.items[0]).toMatchObject({ outcome: 'succeeded', status: 201 });
    expect((await hub.api('POST', `/api/v1/runs/${running.id}/cancel`)).status).toBe(200);
    const canceled = await waiting;
    expect(canceled.status).toBe(201);
    expect(canceled.body).toMatchObject({ id: running.id, status: 'canceled' });

    const runsBefore = (await hub.api('GET', '/api/v1/runs?limit=1')).body.total;
    for (const bad of ['61', '-1', 'soon']) {
      const refused = await hub.api('POST', `/api/v1/runs?wait=${bad}`, { target: { agentIds: [first.agentId] }, command: 'true' });
      expect(refused.status, bad).toBe(400);
      expect(refused.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect((await hub.api('GET', '/api/v1/runs?limit=1')).body.total).toBe(runsBefore);
  });

  it('times out a three-level process tree, one level trapping SIGTERM, and leaves no process alive', async () => {
    // Level 1 starts level 2, which ignores SIGTERM and starts level 3; each prints its PID.
    const command = [
      'echo "pid1 $$"',
      `sh -c 'trap "" TERM; echo "pid2 $$"; sh -c "echo pid3 \\$\\$; sleep 300" & wait' &`,
      'wait',
    ].join('\n');
    const id = await runOn(first.agentId, { command, timeoutSeconds: 2 });
    const running = await waitFor(
      async () => {
        const text = (await hub.api('GET', `/api/v1/executions/${id}/output`)).text as string;
        const pids = [...text.matchAll(/pid(\d) (\d+)/g)].map((m) => Number(m[2]));
        return pids.length === 3 ? pids : null;
      },
      { what: 'all three levels to print their PIDs', timeoutMs: 15_000 },
    );
    expect(running.every(isAlive)).toBe(true);
    const execution = await hub.waitForExecution(id, ['succeeded', 'failed', 'timed_out', 'canceled'], 30_000);
    expect(execution.status).toBe('timed_out');
    expect(execution.reason).toContain('timeout');
    expect(running.filter(isAlive)).toEqual([]);
  });

  it('refuses a handshake with a wrong credential', async () => {
    const refused = await handshake(hub, {
      agentId: first.agentId,
      credential: 'opa_this-is-not-the-credential-at-all',
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: 'test',
    });
    expect(refused).toMatch(/^UNAUTHORIZED: /);
    const config = JSON.parse(readFileSync(first.configPath, 'utf8'));
    const accepted = await handshake(hub, {
      agentId: first.agentId,
      credential: config.credential,
      protocolVersion: '2.0.0',
      agentVersion: 'test',
    });
    expect(accepted).toMatch(/^PROTOCOL_MISMATCH: /);
    expect(accepted).toContain('2.0.0');
    expect(accepted).toContain(PROTOCOL_VERSION);
    const otherMajor = await handshake(hub, { protocolVersion: '2.0.0' }, '/agent/v2');
    expect(otherMajor).toMatch(/^PROTOCOL_MISMATCH: .*\/agent\/v2/);
  });

  it('answers 401 in the error envelope without a token', async () => {
    const response = await hub.request('GET', '/api/v1/agents', undefined, null);
    expect(response.status).toBe(401);
    expect(response.body.error).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(response.body.error.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('answers 400 VALIDATION_ERROR naming each bad field', async () => {
    const response = await hub.api('POST', '/api/v1/runs', {
      command: 'echo x',
      target: { agentIds: ['not-a-uuid'] },
      timeoutSeconds: -1,
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    const fields = response.body.error.details.fields.map((f: any) => f.field).sort();
    expect(fields).toEqual(['target.agentIds.0', 'timeoutSeconds']);
    const nul = await hub.api('POST', '/api/v1/runs', { argv: ['echo', 'a\u0000b'], target: { agentIds: [first.agentId] } });
    expect(nul.status).toBe(400);
    expect(nul.body.error.details.fields[0].field).toBe('argv.1');
    const malformed = await hub.api('POST', '/api/v1/runs', '{"command":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('disconnects a deleted agent at once and refuses it afterwards', async () => {
    const agentProcess = agents[1]!;
    const config = JSON.parse(readFileSync(second.configPath, 'utf8'));
    const deleted = await hub.api('DELETE', `/api/v1/agents/${second.agentId}`);
    expect(deleted.status).toBe(204);
    expect((await hub.api('GET', `/api/v1/agents/${second.agentId}`)).status).toBe(404);
    // The live link is cut, and the agent's own attempts to come back are refused at the handshake.
    await waitFor(() => /"agentId":"[^"]*".*"msg":"agent disconnected"/.test(hub.child.output) && hub.child.output.includes(second.agentId), {
      what: 'the hub to drop the deleted agent',
    });
    await agentProcess.waitForOutput(/handshake refused/, 30_000);
    const again = await handshake(hub, {
      agentId: second.agentId,
      credential: config.credential,
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: 'test',
    });
    expect(again).toMatch(/^UNAUTHORIZED: /);
    const list = await hub.api('GET', '/api/v1/agents');
    expect(list.body.items.map((a: any) => a.id)).toEqual([first.agentId]);
  });
});
