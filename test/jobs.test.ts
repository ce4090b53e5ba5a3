import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Child } from './support/child-process';
import { databaseKinds } from './support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';

describe.each(databaseKinds())('saved jobs and targets on %s database', (database) => {
  let hub: TestHub;
  let adminId: string;
  let webProd: EnrolledAgent;
  let webStaging: EnrolledAgent;
  let db: EnrolledAgent;
  let webAway: EnrolledAgent;
  let webRevoked: EnrolledAgent;
  const processes: Child[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
    [webProd, webStaging, db, webAway, webRevoked] = await Promise.all([
      enrollAgent(hub, { name: 'web-prod', labels: { role: 'web', env: 'prod' } }),
      enrollAgent(hub, { name: 'web-staging', labels: { role: 'web', env: 'staging' } }),
      enrollAgent(hub, { name: 'db', labels: { role: 'db', env: 'prod' } }),
      enrollAgent(hub, { name: 'web-away', labels: { role: 'web', env: 'prod' } }),
      enrollAgent(hub, { name: 'web-revoked', labels: { role: 'web', env: 'prod' } }),
    ]);
    expect((await hub.api('DELETE', `/api/v1/agents/${webRevoked.agentId}`)).status).toBe(204);
    // FAIL_HERE makes the same command fail on this host only, for reruns of what failed.
    processes.push(startAgent(webProd), startAgent(webStaging, [], { FAIL_HERE: '1' }), startAgent(db));
    for (const agent of [webProd, webStaging, db]) await hub.waitForAgentStatus(agent.agentId, 'online');
    const token = await hub.login();
    adminId = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub;
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await hub?.destroy();
  });

  const fieldsOf = (response: { body: any }) => response.body.error.details.fields.map((f: any) => f.field).sort();

  it('creates, reads, lists, replaces, patches and deletes jobs; secret values never come back', async () => {
    const created = await hub.api('POST', '/api/v1/jobs', {
      name: 'check-secret',
      description: 'Checks the web tier token',
      command: 'test "${#TOKEN}" -eq 6 && test "$GREETING" = hello',
      env: { GREETING: 'hello', TOKEN: { value: 's3cret', secret: true } },
      target: { labels: ' role = web , env=prod' },
      timeoutSeconds: 60,
      retries: { max: 1 },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.text).not.toContain('s3cret');
    expect(created.body).toMatchObject({
      name: 'check-secret',
      description: 'Checks the web tier token',
      enabled: true,
      command: 'test "${#TOKEN}" -eq 6 && test "$GREETING" = hello',
      env: { GREETING: 'hello', TOKEN: { secret: true } },
      target: { labels: 'role=web,env=prod' },
      timeoutSeconds: 60,
      retries: { max: 1, backoffSeconds: 10 },
      retryLost: false,
      concurrency: null,
      maxFailures: null,
      createdBy: adminId,
    });
    const id = created.body.id;

    const duplicate = await hub.api('POST', '/api/v1/jobs', { name: 'check-secret', command: 'true', target: { all: true } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('CONFLICT');

    const read = await hub.api('GET', `/api/v1/jobs/${id}`);
    expect(read.body).toEqual(created.body);
    expect(read.text).not.toContain('s3cret');

    // What GET shows can be written back as is: {"secret":true} keeps the stored value.
    const { id: _id, createdAt: _c, updatedAt: _u, createdBy: _b, ...definition } = read.body;
    const replaced = await hub.api('PUT', `/api/v1/jobs/${id}`, { ...definition, description: 'replaced', target: { agentIds: [webProd.agentId] } });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ description: 'replaced', env: { TOKEN: { secret: true } }, target: { agentIds: [webProd.agentId] } });
    const ran = await hub.api('POST', `/api/v1/jobs/${id}/run`);
    expect(ran.status, ran.text).toBe(201);
    // It succeeds only if the agent got the secret value back, and the plain one with it.
    const run = await hub.waitForRun(ran.body.id);
    expect(run.status).toBe('succeeded');

    const patched = await hub.api('PATCH', `/api/v1/jobs/${id}`, { argv: ['echo', 'patched'], enabled: false, retries: null });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ argv: ['echo', 'patched'], enabled: false, retries: null, description: 'replaced' });
    expect(patched.body.command).toBeUndefined();
    expect(patched.body.env).toEqual({ GREETING: 'hello', TOKEN: { secret: true } });

    await hub.api('POST', '/api/v1/jobs', { name: 'other', description: 'a second job', command: 'true', target: { all: true } });
    const renamed = await hub.api('PATCH', `/api/v1/jobs/${id}`, { name: 'other' });
    expect(renamed.status).toBe(409);

    const disabledOnly = await hub.api('GET', '/api/v1/jobs?enabled=false');
    expect(disabledOnly.body.items.map((j: any) => j.name)).toEqual(['check-secret']);
    const search = await hub.api('GET', '/api/v1/jobs?search=SECOND');
    expect(search.body.items.map((j: any) => j.name)).toEqual(['other']);
    const page = await hub.api('GET', '/api/v1/jobs?sort=name&order=asc&limit=1&offset=1');
    expect(page.body).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(page.body.items.map((j: any) => j.name)).toEqual(['other']);

    expect((await hub.api('DELETE', `/api/v1/jobs/${id}`)).status).toBe(204);
    expect((await hub.api('GET', `/api/v1/jobs/${id}`)).status).toBe(404);
    expect((await hub.api('DELETE', `/api/v1/jobs/${id}`)).status).toBe(404);
    // The run outlives its job, with its own copy of what ran.
    expect((await hub.api('GET', `/api/v1/runs/${run.id}`)).body).toMatchObject({ jobId: null, status: 'succeeded' });
  });

  it('refuses invalid jobs, naming each bad field', async () => {
    const empty = await hub.api('POST', '/api/v1/jobs', {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('VALIDATION_ERROR');
    expect(fieldsOf(empty)).toEqual(['name', 'target']);

    const cases: [Record<string, unknown>, string[]][] = [
      [{ command: 'a', argv: ['b'] }, ['argv']],
      [{ command: 'a', target: {} }, ['target']],
      [{ command: 'a', target: { labels: '' } }, ['target.labels']],
      [{ command: 'a', target: { labels: 'role' } }, ['target.labels']],
      [{ command: 'a', target: { all: false } }, ['target.all']],
      [{ command: 'a', target: { all: true, labels: 'a=b' } }, ['target']],
      [{ command: 'a', concurrency: 0, maxFailures: -1, retries: { max: 11 } }, ['concurrency', 'maxFailures', 'retries.max']],
      [{ command: 'a', comand: 'typo' }, ['(body)']],
      [{ script: 'echo' }, ['shell']],
      [{ command: 'a', env: { KEEP: { secret: true } } }, ['env.KEEP']],
      [{ command: 'a', env: { 'BAD-NAME': 'x' } }, ['env.BAD-NAME']],
    ];
    for (const [body, fields] of cases) {
      const response = await hub.api('POST', '/api/v1/jobs', { name: 'bad', target: { all: true }, ...body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(fieldsOf(response), JSON.stringify(body)).toEqual(fields);
    }

    const job = (await hub.api('POST', '/api/v1/jobs', { name: 'valid', command: 'true', target: { all: true } })).body;
    const shellAlone = await hub.api('PATCH', `/api/v1/jobs/${job.id}`, { shell: 'bash' });
    expect(shellAlone.status).toBe(400);
    expect(fieldsOf(shellAlone)).toEqual(['shell']);
    expect(fieldsOf(await hub.api('PATCH', `/api/v1/jobs/${job.id}`, {}))).toEqual(['(body)']);
    expect(fieldsOf(await hub.api('POST', `/api/v1/jobs/${job.id}/run`, { target: {} }))).toEqual(['target']);
    expect(fieldsOf(await hub.api('GET', '/api/v1/jobs?enabled=maybe&sort=color'))).toEqual(['enabled', 'sort']);
    expect((await hub.api('GET', '/api/v1/jobs/not-a-uuid')).status).toBe(400);
    expect((await hub.api('PUT', `/api/v1/jobs/${crypto.randomUUID()}`, { name: 'x', command: 'true', target: { all: true } })).status).toBe(404);
  });

  it('runs a job by label: matching agents only, offline included, revoked never; records trigger, who and the job', async () => {
    const job = (
      await hub.api('POST', '/api/v1/jobs', { name: 'web-prod-fails', command: 'exit 7', target: { labels: 'role=web,env=prod' } })
    ).body;
    const ran = await hub.api('POST', `/api/v1/jobs/${job.id}/run`, { command: 'true', deliveryTimeoutSeconds: 2 });
    expect(ran.status, ran.text).toBe(201);
    expect(ran.body).toMatchObject({ trigger: 'manual', requestedBy: adminId, jobId: job.id, rerunOf: null, command: 'true' });
    const agents = ran.body.executions.map((e: any) => e.agentId).sort();
    expect(agents).toEqual([webProd.agentId, webAway.agentId].sort());

    const run = await hub.waitForRun(ran.body.id);
    const byAgent = Object.fromEntries(run.executions.map((e: any) => [e.agentId, e]));
    // The override ran, not the job's own `exit 7`.
    expect(byAgent[webProd.agentId].status).toBe('succeeded');
    // The offline agent's execution waited queued, then expired undelivered.
    expect(byAgent[webAway.agentId].status).toBe('expired');
    expect(run.status).toBe('failed');

    const runs = await hub.api('GET', `/api/v1/runs?jobId=${job.id}`);
    expect(runs.body.items.map((r: any) => r.id)).toEqual([run.id]);
    const executions = await hub.api('GET', `/api/v1/executions?jobId=${job.id}`);
    expect(executions.body.total).toBe(2);
    expect(executions.body.items.every((e: any) => e.runId === run.id)).toBe(true);
  });

  it('targets every agent with all, and answers NO_TARGETS rather than an empty run', async () => {
    const all = await hub.api('POST', '/api/v1/runs', { command: 'true', target: { all: true }, deliveryTimeoutSeconds: 1 });
    expect(all.status, all.text).toBe(201);
    const agents = all.body.executions.map((e: any) => e.agentId).sort();
    expect(agents).toEqual([webProd, webStaging, db, webAway].map((a) => a.agentId).sort());

    const none = await hub.api('POST', '/api/v1/runs', { command: 'true', target: { labels: 'role=mainframe' } });
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({ code: 'NO_TARGETS', details: { fields: [{ field: 'target.labels' }] } });
    const runsBefore = (await hub.api('GET', '/api/v1/runs?limit=1')).body.total;
    const revoked = await hub.api('POST', '/api/v1/runs', { command: 'true', target: { agentIds: [webRevoked.agentId] } });
    expect(revoked.status).toBe(400);
    expect(revoked.body.error).toMatchObject({ code: 'NO_TARGETS', details: { fields: [{ field: 'target.agentIds' }] } });
    // One revoked agent among live ones: the whole run is refused, naming only that one, and nothing is written.
    const mixed = await hub.api('POST', '/api/v1/runs', { command: 'true', target: { agentIds: [webProd.agentId, webRevoked.agentId] } });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.code).toBe('NO_TARGETS');
    expect(mixed.body.error.message).toContain(webRevoked.agentId);
    expect(mixed.body.error.message).not.toContain(webProd.agentId);
    expect((await hub.api('GET', '/api/v1/runs?limit=1')).body.total).toBe(runsBefore);
    const empty = await hub.api('POST', '/api/v1/runs', { command: 'true', target: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('VALIDATION_ERROR');

    const nowhere = (await hub.api('POST', '/api/v1/jobs', { name: 'nowhere', command: 'true', target: { labels: 'role=mainframe' } })).body;
    const ran = await hub.api('POST', `/api/v1/jobs/${nowhere.id}/run`);
    expect(ran.status).toBe(400);
    expect(ran.body.error.code).toBe('NO_TARGETS');
    await hub.api('PATCH', `/api/v1/jobs/${nowhere.id}`, { enabled: false, target: { all: true } });
    const disabled = await hub.api('POST', `/api/v1/jobs/${nowhere.id}/run`);
    expect(disabled.status).toBe(409);
    expect(disabled.body.error.code).toBe('CONFLICT');
  });

  it('reruns a run, or only the targets whose last attempt did not succeed', async () => {
    const both = await hub.api('POST', '/api/v1/runs', {
      command: 'test -z "$FAIL_HERE"',
      target: { agentIds: [webProd.agentId, webStaging.agentId] },
    });
    expect(both.status, both.text).toBe(201);
    const original = await hub.waitForRun(both.body.id);
    expect(original.status).toBe('failed');

    const onlyFailed = await hub.api('POST', `/api/v1/runs/${original.id}/rerun`, { only: 'failed' });
    expect(onlyFailed.status, onlyFailed.text).toBe(201);
    expect(onlyFailed.body).toMatchObject({ trigger: 'rerun', rerunOf: original.id, requestedBy: adminId, target: { agentIds: [webStaging.agentId] } });
    expect(onlyFailed.body.executions.map((e: any) => e.agentId)).toEqual([webStaging.agentId]);
    expect((await hub.waitForRun(onlyFailed.body.id)).status).toBe('failed');

    const everything = await hub.api('POST', `/api/v1/runs/${original.id}/rerun`);
    expect(everything.status, everything.text).toBe(201);
    expect(everything.body.executions.map((e: any) => e.agentId).sort()).toEqual([webProd.agentId, webStaging.agentId].sort());

    const succeeded = await hub.api('POST', '/api/v1/runs', { command: 'true', target: { agentIds: [webProd.agentId] } });
    await hub.waitForRun(succeeded.body.id);
    const nothingFailed = await hub.api('POST', `/api/v1/runs/${succeeded.body.id}/rerun`, { only: 'failed' });
    expect(nothingFailed.status).toBe(400);
    expect(nothingFailed.body.error.code).toBe('NO_TARGETS');
    expect(fieldsOf(await hub.api('POST', `/api/v1/runs/${original.id}/rerun`, { only: 'succeeded' }))).toEqual(['only']);
  });
});
