import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Child } from '../support/child-process';
import { databaseKinds } from '../support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from '../support/test-agent';
import { TestHub } from '../support/test-hub';

/**
 * Prints the secret whole, then split across two writes a moment apart (two output chunks), and
 * its SHA-256, which proves the command saw the real value without the value leaving the host.
 */
const SCRIPT = [
  'printf "whole: %s\\n" "$TOKEN"',
  'printf "split: %s" "${TOKEN:0:9}"',
  'sleep 0.3',
  'printf "%s\\n" "${TOKEN:9}"',
  'printf "sha256: %s\\n" "$(printf %s "$TOKEN" | sha256sum | cut -d" " -f1)"',
  'printf "plain: %s\\n" "$PLAIN"',
].join('\n');

function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesBelow(file) : [file];
  });
}

describe.each(databaseKinds())('secret env values on %s database', (database) => {
  const secret = `s3cret-${randomBytes(12).toString('hex')}`;
  const sha256 = createHash('sha256').update(secret).digest('hex');
  let hub: TestHub;
  let agent: EnrolledAgent;
  let agentProcess: Child;
  let jobId: string;
  const executionIds: string[] = [];
  const runIds: string[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate'), env: { HUB_LOG_LEVEL: 'debug' } });
    agent = await enrollAgent(hub, { name: 'secret-host' });
    agentProcess = startAgent(agent);
    await hub.waitForAgentStatus(agent.agentId, 'online');
  });

  afterAll(async () => {
    await agentProcess?.stop();
    await hub?.destroy();
  });

  async function runToEnd(runId: string): Promise<string> {
    const run = (await hub.api('GET', `/api/v1/runs/${runId}`)).body;
    const executionId = run.executions[0].id as string;
    const execution = await hub.waitForExecution(executionId, ['succeeded', 'failed']);
    runIds.push(runId);
    executionIds.push(executionId);
    const output = (await hub.api('GET', `/api/v1/executions/${executionId}/output`)).text;
    expect(execution.status, output).toBe('succeeded');
    return output;
  }

  const expectedOutput = `whole: ***\nsplit: ***\nsha256: ${sha256}\nplain: visible\n`;

  it('a job and an ad-hoc run use the secret, and their output shows it masked, even split across two writes', async () => {
    const env = { TOKEN: { value: secret, secret: true }, PLAIN: 'visible' };
    const target = { agentIds: [agent.agentId] };
    const job = await hub.api('POST', '/api/v1/jobs', { name: 'uses-secret', script: SCRIPT, shell: 'bash', env, target });
    expect(job.status, job.text).toBe(201);
    jobId = job.body.id;
    const fromJob = await hub.api('POST', `/api/v1/jobs/${jobId}/run`, {});
    expect(fromJob.status, fromJob.text).toBe(201);
    expect(await runToEnd(fromJob.body.id)).toBe(expectedOutput);

    const adHoc = await hub.api('POST', '/api/v1/runs', { script: SCRIPT, shell: 'bash', env, target });
    expect(adHoc.status, adHoc.text).toBe(201);
    expect(await runToEnd(adHoc.body.id)).toBe(expectedOutput);

    // A job written back as read keeps its secret; a rerun copies it sealed.
    const read = (await hub.api('GET', `/api/v1/jobs/${jobId}`)).body;
    const replaced = await hub.api('PUT', `/api/v1/jobs/${jobId}`, { ...read, id: undefined, createdAt: undefined, updatedAt: undefined, createdBy: undefined });
    expect(replaced.status, replaced.text).toBe(200);
    const rerun = await hub.api('POST', `/api/v1/runs/${adHoc.body.id}/rerun`, {});
    expect(rerun.status, rerun.text).toBe(201);
    expect(await runToEnd(rerun.body.id)).toBe(expectedOutput);
  });

  it('never appears in an API response', async () => {
    const paths = [
      `/api/v1/jobs/${jobId}`,
      '/api/v1/jobs',
      '/api/v1/runs',
      '/api/v1/executions',
      ...runIds.map((id) => `/api/v1/runs/${id}`),
      ...executionIds.flatMap((id) => [
        `/api/v1/executions/${id}`,
        `/api/v1/executions/${id}/output`,
        `/api/v1/executions/${id}/output?format=raw`,
        `/api/v1/executions/${id}/output?format=jsonl`,
        `/api/v1/executions/${id}/stream`,
      ]),
    ];
    for (const urlPath of paths) {
      const response = await hub.api('GET', urlPath);
      expect(response.status, urlPath).toBe(200);
      expect(response.text, urlPath).not.toContain(secret);
    }
    const job = (await hub.api('GET', `/api/v1/jobs/${jobId}`)).body;
    expect(job.env).toEqual({ TOKEN: { secret: true }, PLAIN: 'visible' });
  });

  it('never appears in the hub’s log, even at debug level, nor in the agent’s', () => {
    expect(hub.child.output).toContain('"level":20');
    expect(hub.child.output).not.toContain(secret);
    expect(agentProcess.output.length).toBeGreaterThan(0);
    expect(agentProcess.output).not.toContain(secret);
  });

  it.runIf(database === 'postgres')('is stored sealed: not in jobs, runs or stored output', async () => {
    const client = new Client({ connectionString: hub.databaseUrl });
    await client.connect();
    try {
      const envs = await client.query<{ env: string }>(`select env::text as env from jobs union all select env::text from runs`);
      expect(envs.rows.length).toBe(4);
      for (const row of envs.rows) {
        expect(row.env).not.toContain(secret);
        expect(JSON.parse(row.env).TOKEN).toMatchObject({ secret: true, sealed: expect.stringMatching(/^v1:/) });
      }
      const output = await client.query<{ data: Buffer }>('select data from execution_output');
      expect(output.rows.length).toBeGreaterThan(0);
      expect(Buffer.concat(output.rows.map((row) => row.data)).includes(secret)).toBe(false);
    } finally {
      await client.end();
    }
  });

  it.runIf(database === 'postgres')('a row stored in plaintext before this version is sealed by the migration, and still runs', async () => {
    await hub.stop();
    const client = new Client({ connectionString: hub.databaseUrl });
    await client.connect();
    const legacyId = randomUUID();
    try {
      await client.query(
        `insert into jobs (id, name, spec, env, target, created_at, updated_at)
         select $1, 'legacy', spec, $2::jsonb, target, now(), now() from jobs where id = $3`,
        [legacyId, JSON.stringify({ TOKEN: { value: secret, secret: true }, PLAIN: { value: 'visible', secret: false } }), jobId],
      );
      await client.query(`delete from mikro_orm_migrations where name = 'Migration20261130210000_secrets_at_rest'`);
    } finally {
      await client.end();
    }
    await hub.launch();
    const sealed = new Client({ connectionString: hub.databaseUrl });
    await sealed.connect();
    try {
      const row = await sealed.query<{ env: string }>('select env::text as env from jobs where id = $1', [legacyId]);
      expect(row.rows[0]!.env).not.toContain(secret);
      expect(JSON.parse(row.rows[0]!.env)).toEqual({
        TOKEN: { secret: true, sealed: expect.stringMatching(/^v1:/) },
        PLAIN: { value: 'visible', secret: false },
      });
    } finally {
      await sealed.end();
    }
    await hub.waitForAgentStatus(agent.agentId, 'online');
    const run = await hub.api('POST', `/api/v1/jobs/${legacyId}/run`, {});
    expect(run.status, run.text).toBe(201);
    expect(await runToEnd(run.body.id)).toBe(expectedOutput);
  });

  it.runIf(database === 'embedded')('is stored sealed: no file of the embedded database holds it', async () => {
    await hub.stop();
    const files = filesBelow(path.join(hub.dataDir, 'pg'));
    expect(files.length).toBeGreaterThan(10);
    const holding = files.filter((file) => readFileSync(file).includes(secret));
    expect(holding).toEqual([]);
    // The check can see stored text: the plain value is in there.
    expect(files.some((file) => readFileSync(file).includes('visible'))).toBe(true);
  });
});
