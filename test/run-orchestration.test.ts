import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Child } from './support/child-process';
import { crashRecoveryDatabases, databaseKinds } from './support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

const FLEET_SIZE = 20;

/** The most executions that overlapped in time; an end and a start at the same instant do not overlap. */
function peakOverlap(executions: { startedAt: string; finishedAt: string }[]): number {
  const events = executions
    .flatMap((e) => [
      [Date.parse(e.startedAt), 1],
      [Date.parse(e.finishedAt), -1],
    ])
    .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let running = 0;
  let peak = 0;
  for (const [, change] of events) {
    running += change!;
    peak = Math.max(peak, running);
  }
  return peak;
}

describe.each(databaseKinds())('run orchestration on %s database', (database) => {
  let hub: TestHub;
  let fleet: EnrolledAgent[];
  const processes: Child[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'outpost-orchestration-'));

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
    fleet = await Promise.all(
      Array.from({ length: FLEET_SIZE }, (_, i) => enrollAgent(hub, { name: `fleet-${i}`, labels: { fleet: 'twenty', index: String(i) } })),
    );
    // One slot each keeps twenty agent processes light on two cores; the caps under test are the run's.
    for (const agent of fleet) processes.push(startAgent(agent, ['--max-concurrent', '1']));
    await waitFor(
      async () => (await hub.api('GET', '/api/v1/agents?labels=fleet=twenty&status=online&limit=1')).body.total === FLEET_SIZE,
      { timeoutMs: 60_000, what: `${FLEET_SIZE} agents online` },
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await hub?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  const start = async (body: Record<string, unknown>) => {
    const response = await hub.api('POST', '/api/v1/runs', body);
    expect(response.status, response.text).toBe(201);
    return response.body;
  };

  it('runs on twenty agents chosen by label', async () => {
    const created = await start({ command: 'true', target: { labels: 'fleet=twenty' } });
    expect(new Set(created.executions.map((e: any) => e.agentId)).size).toBe(FLEET_SIZE);
    const run = await hub.waitForRun(created.id, 60_000);
    expect(run.status).toBe('succeeded');
    expect(run.executions.map((e: any) => e.status)).toEqual(Array(FLEET_SIZE).fill('succeeded'));
  });

  it('keeps exactly `concurrency` executions running at the peak, and never more', async () => {
    const created = await start({ command: 'sleep 0.3', target: { labels: 'fleet=twenty' }, concurrency: 2 });
    // The cap holds from the first instant: the rest wait pending, not queued.
    expect(created.executions.filter((e: any) => e.status === 'pending').length).toBeGreaterThanOrEqual(FLEET_SIZE - 2);
    const run = await hub.waitForRun(created.id, 60_000);
    expect(run.status).toBe('succeeded');
    expect(run.executions).toHaveLength(FLEET_SIZE);
    expect(run.executions.every((e: any) => e.status === 'succeeded' && e.attempt === 1)).toBe(true);
    expect(peakOverlap(run.executions)).toBe(2);
  });

  it('cancels what was not dispatched once maxFailures targets failed', async () => {
    const created = await start({ command: 'exit 3', target: { labels: 'fleet=twenty' }, concurrency: 1, maxFailures: 1 });
    const run = await hub.waitForRun(created.id, 60_000);
    expect(run.status).toBe('failed');
    const failed = run.executions.filter((e: any) => e.status === 'failed');
    const canceled = run.executions.filter((e: any) => e.status === 'canceled');
    expect(failed).toHaveLength(1);
    expect(failed[0].exitCode).toBe(3);
    expect(canceled).toHaveLength(FLEET_SIZE - 1);
    for (const execution of canceled) {
      expect(execution.reason).toMatch(/^max_failures: 1 target\(s\) failed, maxFailures is 1/);
      expect(execution.dispatchedAt).toBeNull();
    }
  });

  it('retries a failing command with backoff until it succeeds: attempts 1 and 2 failed, 3 succeeded', async () => {
    const counter = path.join(scratch, 'attempts');
    const created = await start({
      // Fails on its first two runs, succeeds on the third.
      command: `n=$(cat "${counter}" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "${counter}"; test $n -ge 3`,
      target: { agentIds: [fleet[0]!.agentId] },
      retries: { max: 2, backoffSeconds: 1 },
    });
    const run = await hub.waitForRun(created.id, 60_000);
    expect(run.status).toBe('succeeded');
    const attempts = [...run.executions].sort((a: any, b: any) => a.attempt - b.attempt);
    expect(attempts.map((e: any) => [e.attempt, e.agentId, e.status])).toEqual([
      [1, fleet[0]!.agentId, 'failed'],
      [2, fleet[0]!.agentId, 'failed'],
      [3, fleet[0]!.agentId, 'succeeded'],
    ]);
    // Backoff doubles: 1 s before attempt 2, 2 s before attempt 3.
    expect(Date.parse(attempts[1].dispatchedAt) - Date.parse(attempts[0].finishedAt)).toBeGreaterThanOrEqual(1000);
    expect(Date.parse(attempts[2].dispatchedAt) - Date.parse(attempts[1].finishedAt)).toBeGreaterThanOrEqual(2000);
    const listed = await hub.api('GET', `/api/v1/executions?runId=${run.id}&sort=createdAt&order=asc`);
    expect(listed.body.items.map((e: any) => e.attempt)).toEqual([1, 2, 3]);
  });

  it('stops retrying after retries.max, and then the run fails', async () => {
    const created = await start({ command: 'exit 1', target: { agentIds: [fleet[1]!.agentId] }, retries: { max: 1, backoffSeconds: 0 } });
    const run = await hub.waitForRun(created.id, 60_000);
    expect(run.status).toBe('failed');
    expect(run.executions.map((e: any) => [e.attempt, e.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
    ]);
  });
});

describe.each(crashRecoveryDatabases())('retrying lost executions on %s database', (database) => {
  const OFFLINE_AFTER_S = 2;
  const LEASE_S = 10 * OFFLINE_AFTER_S;
  let hub: TestHub;
  const processes: Child[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({
      database,
      embeddedTemplate: inject('embeddedTemplate'),
      env: { HUB_AGENT_OFFLINE_AFTER_S: String(OFFLINE_AFTER_S), HUB_EXECUTION_LEASE_S: String(LEASE_S) },
    });
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await hub?.destroy();
  });

  it('retries a lost execution only when the job says retryLost', async () => {
    const [careful, eager] = await Promise.all([enrollAgent(hub, { name: 'careful' }), enrollAgent(hub, { name: 'eager' })]);
    const carefulProcess = startAgent(careful);
    const eagerProcess = startAgent(eager);
    processes.push(carefulProcess, eagerProcess);
    await hub.waitForAgentStatus(careful.agentId, 'online');
    await hub.waitForAgentStatus(eager.agentId, 'online');
    const retries = { max: 1, backoffSeconds: 0 };
    // The retry waits queued for its agent, which never returns: a short delivery deadline ends it.
    const common = { command: 'sleep 300', retries, deliveryTimeoutSeconds: 2 };
    const eagerJob = (await hub.api('POST', '/api/v1/jobs', { name: 'eager', ...common, target: { agentIds: [eager.agentId] }, retryLost: true })).body;
    const carefulJob = (await hub.api('POST', '/api/v1/jobs', { name: 'careful', ...common, target: { agentIds: [careful.agentId] } })).body;
    const eagerRun = (await hub.api('POST', `/api/v1/jobs/${eagerJob.id}/run`)).body;
    const carefulRun = (await hub.api('POST', `/api/v1/jobs/${carefulJob.id}/run`)).body;
    await hub.waitForExecution(eagerRun.executions[0].id, ['running']);
    await hub.waitForExecution(carefulRun.executions[0].id, ['running']);
    await Promise.all([eagerProcess.stop('SIGKILL'), carefulProcess.stop('SIGKILL')]);

    const eagerEnd = await hub.waitForRun(eagerRun.id, (LEASE_S + 20) * 1000);
    const carefulEnd = await hub.waitForRun(carefulRun.id, (LEASE_S + 20) * 1000);
    expect(eagerEnd.executions.map((e: any) => [e.attempt, e.status])).toEqual([
      [1, 'lost'],
      [2, 'expired'],
    ]);
    expect(carefulEnd.executions.map((e: any) => [e.attempt, e.status])).toEqual([[1, 'lost']]);
    expect([eagerEnd.status, carefulEnd.status]).toEqual(['failed', 'failed']);
  }, 120_000);
});
