import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Child } from './support/child-process';
import { crashRecoveryDatabases, databaseKinds } from './support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

/** A short lease: an occurrence more than 2 × lease + 1 s late counts as missed. */
const LEASE_S = 1;
const LATE_GRACE_MS = 2 * LEASE_S * 1000 + 1000;
const NOBODY = { labels: 'role=nobody' };

const localTime = (iso: string, timeZone: string) => new Date(iso).toLocaleTimeString('en-GB', { timeZone, hour12: false });

describe.each(databaseKinds())('scheduling on %s database', (database) => {
  let hub: TestHub;
  let agent: EnrolledAgent;
  let agentProcess: Child | undefined;

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate'), env: { HUB_SCHEDULER_LEASE_S: String(LEASE_S) } });
    agent = await enrollAgent(hub, { name: 'scheduled' });
    agentProcess = startAgent(agent);
    await hub.waitForAgentStatus(agent.agentId, 'online');
  });

  afterAll(async () => {
    await agentProcess?.stop();
    await hub?.destroy();
  });

  const createJob = async (body: Record<string, unknown>) => {
    const created = await hub.api('POST', '/api/v1/jobs', body);
    expect(created.status, created.text).toBe(201);
    return created.body;
  };
  const runsOf = async (jobId: string): Promise<any[]> =>
    (await hub.api('GET', `/api/v1/runs?jobId=${jobId}&limit=500&sort=createdAt&order=asc`)).body.items;

  it('saves schedules, previews them, pauses and resumes jobs and the whole hub; bad ones are INVALID_SCHEDULE', async () => {
    const job = await createJob({ name: 'nightly', command: 'true', target: { all: true }, schedule: { cron: '0 2 * * *', timezone: 'Europe/Berlin' } });
    expect(job).toMatchObject({
      schedule: { cron: '0 2 * * *', timezone: 'Europe/Berlin' },
      overlap: 'skip',
      missed: 'runOnce',
      startingDeadlineSeconds: 3600,
      paused: false,
    });
    const next = (await hub.api('GET', `/api/v1/jobs/${job.id}/next-runs?count=3`)).body.items as string[];
    expect(next).toHaveLength(3);
    for (const at of next) expect(localTime(at, 'Europe/Berlin')).toBe('02:00:00');

    const badCron = await hub.api('POST', '/api/v1/jobs', { name: 'bad', command: 'true', target: { all: true }, schedule: { cron: '0 25 * * *' } });
    expect(badCron.status).toBe(400);
    expect(badCron.body.error).toMatchObject({ code: 'INVALID_SCHEDULE', details: { fields: [{ field: 'schedule.cron' }] } });
    expect(badCron.body.error.message).toContain('hour: 25');
    const badZone = await hub.api('PATCH', `/api/v1/jobs/${job.id}`, { schedule: { cron: '0 2 * * *', timezone: 'Europe/Bärlin' } });
    expect(badZone.status).toBe(400);
    expect(badZone.body.error.code).toBe('INVALID_SCHEDULE');
    expect(badZone.body.error.message).toContain('not an IANA time zone');

    const cron = await hub.api('GET', `/api/v1/schedules/preview?cron=${encodeURIComponent('*/15 * * * *')}&timezone=America/New_York&count=100`);
    expect(cron.status, cron.text).toBe(200);
    expect(cron.body.items).toHaveLength(100);
    expect(cron.body.items.every((at: string) => new Date(at).getUTCMinutes() % 15 === 0 && new Date(at).getTime() > Date.now())).toBe(true);
    const every = await hub.api('GET', '/api/v1/schedules/preview?every=5m&count=100');
    const times = (every.body.items as string[]).map((at) => new Date(at).getTime());
    expect(times).toHaveLength(100);
    expect(times.slice(1).every((t, i) => t - times[i]! === 300_000)).toBe(true);
    const badEvery = await hub.api('GET', '/api/v1/schedules/preview?every=5%20minutes');
    expect(badEvery.status).toBe(400);
    expect(badEvery.body.error.code).toBe('INVALID_SCHEDULE');
    expect(badEvery.body.error.message).toContain('not an interval');

    const paused = await hub.api('POST', `/api/v1/jobs/${job.id}/pause`);
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body.paused).toBe(true);
    expect((await hub.api('GET', `/api/v1/jobs/${job.id}/next-runs`)).body.items).toEqual([]);
    expect((await hub.api('GET', '/api/v1/scheduler')).body.nextFires.map((f: any) => f.jobId)).not.toContain(job.id);
    const resumed = await hub.api('POST', `/api/v1/jobs/${job.id}/resume`);
    expect(resumed.body.paused).toBe(false);
    expect((await hub.api('GET', `/api/v1/jobs/${job.id}/next-runs?count=3`)).body.items).toEqual(next);

    const scheduler = await hub.api('GET', '/api/v1/scheduler');
    expect(scheduler.body).toMatchObject({ status: 'running', thisHub: { leading: true } });
    expect(scheduler.body.leader.hubId).toBe(scheduler.body.thisHub.hubId);
    expect(scheduler.body.nextFires).toContainEqual(expect.objectContaining({ jobId: job.id, scheduledAt: next[0] }));
    expect((await hub.api('POST', '/api/v1/scheduler/pause')).body.status).toBe('paused');
    expect((await hub.api('POST', '/api/v1/scheduler/resume')).body.status).toBe('running');
    expect((await hub.api('DELETE', `/api/v1/jobs/${job.id}`)).status).toBe(204);
  });

  it('records an occurrence that matches no agent as a failed run, reason NO_TARGETS, once per second', async () => {
    const job = await createJob({ name: 'to-nobody', command: 'true', target: NOBODY, schedule: { every: '1s' }, overlap: 'allow' });
    await waitFor(async () => (await runsOf(job.id)).length >= 3, { timeoutMs: 20_000, what: 'three scheduled runs' });
    await hub.api('POST', `/api/v1/jobs/${job.id}/pause`);
    const runs = await runsOf(job.id);
    for (const run of runs) {
      expect(run).toMatchObject({ trigger: 'schedule', status: 'failed', jobId: job.id, requestedBy: job.createdBy });
      expect(run.reason).toMatch(/^NO_TARGETS: /);
      expect(new Date(run.scheduledAt).getMilliseconds()).toBe(0);
    }
    const seconds = runs.map((r) => Date.parse(r.scheduledAt));
    expect(new Set(seconds).size).toBe(seconds.length);
    const one = await hub.api('GET', `/api/v1/runs/${runs[0].id}`);
    expect(one.body).toMatchObject({ trigger: 'schedule', scheduledAt: runs[0].scheduledAt, executions: [] });
  });

  it('overlap skip does not start while the previous run goes on; replace cancels it, then starts', async () => {
    const target = { agentIds: [agent.agentId] };
    const skip = await createJob({ name: 'overlap-skip', command: 'sleep 2.5', target, schedule: { every: '1s' } });
    await waitFor(async () => (await runsOf(skip.id)).filter((r) => r.status === 'succeeded').length >= 2, {
      timeoutMs: 30_000,
      what: 'two runs of overlap-skip to succeed',
    });
    await hub.api('POST', `/api/v1/jobs/${skip.id}/pause`);
    const skipped = await waitFor(
      async () => {
        const runs = await runsOf(skip.id);
        return runs.every((r) => r.finishedAt) ? runs : null;
      },
      { timeoutMs: 20_000, what: 'overlap-skip runs to end' },
    );
    for (let i = 1; i < skipped.length; i++) {
      expect(Date.parse(skipped[i].createdAt)).toBeGreaterThanOrEqual(Date.parse(skipped[i - 1].finishedAt));
      // Occurrences fell in between and were not started.
      expect(Date.parse(skipped[i].scheduledAt) - Date.parse(skipped[i - 1].scheduledAt)).toBeGreaterThanOrEqual(2000);
    }

    const replace = await createJob({ name: 'overlap-replace', command: 'sleep 60', target, schedule: { every: '2s' }, overlap: 'replace' });
    await waitFor(async () => (await runsOf(replace.id)).length >= 3, { timeoutMs: 30_000, what: 'three runs of overlap-replace' });
    await hub.api('POST', `/api/v1/jobs/${replace.id}/pause`);
    const replaced = await waitFor(
      async () => {
        const runs = await runsOf(replace.id);
        return runs.slice(0, -1).every((r) => r.status === 'canceled') ? runs : null;
      },
      { timeoutMs: 20_000, what: 'every replaced run to be canceled' },
    );
    for (let i = 1; i < replaced.length; i++) {
      expect(Date.parse(replaced[i - 1].finishedAt)).toBeLessThanOrEqual(Date.parse(replaced[i].createdAt));
    }
    const last = replaced.at(-1);
    expect(['pending', 'running']).toContain(last.status);
    await hub.api('POST', `/api/v1/runs/${last.id}/cancel`);
  });

  // Recovery after the hub was down: a crash-recovery test (see crashRecoveryDatabases).
  it.runIf(crashRecoveryDatabases().includes(database))('after a stop across occurrences: missed skip runs none, runOnce runs the latest once, within its starting deadline', async () => {
    // Three occurrences, all while the hub is stopped: T0, T0 + 1 s, T0 + 2 s.
    const t0 = Math.ceil((Date.now() + 6_000) / 1000) * 1000;
    const schedule = { every: '1s', startAt: new Date(t0).toISOString(), endAt: new Date(t0 + 2_000).toISOString() };
    const common = { command: 'true', target: NOBODY, schedule, overlap: 'allow' };
    const skip = await createJob({ ...common, name: 'missed-skip', missed: 'skip' });
    const runOnce = await createJob({ ...common, name: 'missed-run-once' });
    const tooLate = await createJob({ ...common, name: 'missed-too-late', startingDeadlineSeconds: 1 });
    await hub.stop();
    expect(Date.now(), 'the hub must be stopped before the first occurrence').toBeLessThan(t0);
    // The last occurrence must be missed, not merely late, when the hub is back.
    await waitFor(() => Date.now() > t0 + 2_000 + LATE_GRACE_MS + 500, { timeoutMs: 30_000, what: 'the occurrences to pass' });
    await hub.launch();
    await waitFor(
      async () => {
        for (const job of [skip, runOnce, tooLate]) {
          if ((await hub.api('GET', `/api/v1/jobs/${job.id}/next-runs`)).body.items.length > 0) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, what: 'the scheduler to pass the missed occurrences' },
    );
    expect(await runsOf(skip.id)).toEqual([]);
    expect((await runsOf(runOnce.id)).map((r) => r.scheduledAt)).toEqual([new Date(t0 + 2_000).toISOString()]);
    expect(await runsOf(tooLate.id)).toEqual([]);
  });
});
