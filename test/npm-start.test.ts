import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './support/child-process';
import { ROOT } from './support/paths';
import { freePort } from './support/test-hub';
import { waitFor } from './support/wait';

/** `npm start` is `npm run build && node scripts/start.mjs`; the build already ran before the tests. */
describe('npm start', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-start-'));
  let started: Child | undefined;

  afterEach(async () => {
    await started?.stop('SIGTERM');
  });
  // After the processes stopped: the agent's spool writes into the data dir until then.
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function start(port: number) {
    started = new Child(process.execPath, [path.join(ROOT, 'scripts/start.mjs')], {
      ...process.env,
      HUB_DATA_DIR: dataDir,
      HUB_PORT: String(port),
      HUB_HOST: '127.0.0.1',
      DATABASE_URL: '',
      HUB_ADMIN_PASSWORD: '',
    });
    await started.waitForOutput('A local agent is running next to the hub', 90_000);
    const password = readFileSync(path.join(dataDir, 'admin-password'), 'utf8').trim();
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    }).then((r) => r.json() as Promise<any>);
    const auth = { authorization: `Bearer ${login.accessToken}` };
    const agents = await waitFor(
      async () => {
        const list = await fetch(`${base}/api/v1/agents`, { headers: auth }).then((r) => r.json() as Promise<any>);
        return list.items.length === 1 && list.items[0].status === 'online' ? list.items : null;
      },
      { what: 'the local agent to be online', timeoutMs: 30_000 },
    );
    return { base, auth, password, agentId: agents[0].id as string };
  }

  it('starts a hub with one local agent that runs commands, and reuses that agent on the next start', async () => {
    const port = await freePort();
    const first = await start(port);
    expect(started!.output).toContain('Creating the embedded database');
    expect(started!.output).toContain(`Outpost hub ready at http://localhost:${port}`);
    expect(started!.output).toContain(`admin / ${first.password}   (generated now`);
    const run = await fetch(`${first.base}/api/v1/runs`, {
      method: 'POST',
      headers: { ...first.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'echo hello', target: { agentIds: [first.agentId] } }),
    }).then((r) => r.json() as Promise<any>);
    const executionId = run.executions[0].id;
    const execution = await waitFor(
      async () => {
        const e = await fetch(`${first.base}/api/v1/executions/${executionId}`, { headers: first.auth }).then((r) => r.json() as Promise<any>);
        return ['succeeded', 'failed'].includes(e.status) ? e : null;
      },
      { what: 'echo hello to finish' },
    );
    expect(execution).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const output = await fetch(`${first.base}/api/v1/executions/${executionId}/output?stream=stdout`, { headers: first.auth });
    expect(await output.text()).toBe('hello\n');
    const dashboard = await fetch(`${first.base}/`, { headers: { accept: 'text/html' } });
    expect(await dashboard.text()).toContain('<div id="root">');
    expect(started!.output).toContain(`Dashboard: http://localhost:${port}/`);

    await started!.stop('SIGTERM');
    expect(started!.exitCode).toBe(0);
    const second = await start(port);
    expect(second.agentId).toBe(first.agentId);
    expect(started!.output).toContain(`admin / (the password in ${path.join(dataDir, 'admin-password')})`);
    expect(started!.output).not.toContain(first.password);
  });
});
