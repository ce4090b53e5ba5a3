import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { AGENT_BINARY, hasBinary } from '../support/agent-binaries';
import { CHROMIUM, launchChromium, overflowsHorizontally, screenshot } from '../support/browser';
import { Child } from '../support/child-process';
import { databaseKinds } from '../support/databases';
import { AGENT_MAIN, ROOT } from '../support/paths';
import { BUNDLED_AGENT, enrollAgent, type EnrolledAgent, startAgent } from '../support/test-agent';
import { ADMIN_PASSWORD, TestHub } from '../support/test-hub';
import { createUser } from '../support/users';

const UI_TIMEOUT = 20_000;
const NO_SCHEDULER = 'the hub has no scheduling routes yet (GET /api/v1/schedules/preview answered 404): merge the scheduling branch';

describe.skipIf(!existsSync(CHROMIUM)).each(databaseKinds())('dashboard in a real browser on %s database', (database) => {
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let local: EnrolledAgent;
  const processes: Child[] = [];
  const tempDirs: string[] = [];
  /** What the browser refused under the hub's Content Security Policy, if it sends one. */
  const cspViolations: string[] = [];

  const row = (name: string) => page.locator(`tr[data-agent="${name}"]`);
  const shots = (name: string) => `${database}-${name}`;

  async function logIn(target: Page, username = 'admin', password = ADMIN_PASSWORD): Promise<void> {
    await target.goto(hub.url);
    await target.getByLabel('Username').fill(username);
    await target.getByRole('textbox', { name: 'Password' }).fill(password);
    await target.getByRole('button', { name: 'Log in' }).click();
    await target.getByRole('heading', { name: 'Fleet' }).waitFor();
  }

  async function pickAgent(name: string): Promise<void> {
    await page.getByRole('combobox', { name: 'Agents' }).click();
    await page.getByRole('option', { name: new RegExp(`^${name} `) }).click();
  }

  function tempDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-dashboard-'));
    tempDirs.push(dir);
    return dir;
  }

  /** Whether this hub has the scheduling routes yet (built on another branch). */
  async function hasScheduler(): Promise<boolean> {
    return (await hub.api('GET', '/api/v1/schedules/preview?cron=0%202%20*%20*%20*&count=1')).status !== 404;
  }

  beforeAll(async () => {
    expect(existsSync(path.join(ROOT, 'dist/apps/dashboard/index.html')), 'the dashboard is built').toBe(true);
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate'), env: { HUB_AGENT_HEALTH_INTERVAL_S: '1' } });
    local = await enrollAgent(hub, { name: 'local', labels: { env: 'test' } });
    processes.push(startAgent(local));
    await hub.waitForAgentStatus(local.agentId, 'online');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(UI_TIMEOUT);
    context.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
    });
    page = await context.newPage();
  });

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' || task.result?.errors?.length) await screenshot(page, shots(`failed-${task.name.slice(0, 40).replace(/\W+/g, '-')}`));
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await hub?.destroy();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the app at / without shadowing the API, and logs in; the session survives a reload', async () => {
    const apiMiss = await hub.request('GET', '/api/v1/no-such-route', undefined, null);
    expect(apiMiss.headers.get('content-type')).toContain('application/json');
    expect((await hub.request('GET', '/health/live', undefined, null)).status).toBe(200);
    const deepLink = await hub.fetchRaw('/agents/some-id', { headers: { accept: 'text/html' } });
    expect(await deepLink.text()).toContain('<div id="root">');

    await logIn(page);
    // Nothing a script could steal: the access token stays in memory, the refresh token in an httpOnly cookie.
    expect(await page.evaluate<string>('JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie')).not.toMatch(/eyJ|opr_/);
    await page.reload();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
  });

  it('shows the local agent online with health numbers', async () => {
    await row('local').locator('[data-status="online"]').waitFor();
    await row('local').locator('[data-metric="cpu"]', { hasText: /\d+%/ }).waitFor();
    await row('local').locator('[data-metric="memory"]', { hasText: /\d+%/ }).waitFor();
    await row('local').getByText('env=test').waitFor();
    await screenshot(page, shots('fleet'));
  });

  it('keeps fleet filters in the URL', async () => {
    await page.goto(`${hub.url}/?status=offline`);
    await page.getByText('No agents match these filters.').waitFor();
    await page.goto(`${hub.url}/?status=online&search=loc`);
    await row('local').waitFor();
  });

  it('shows an agent page with facts, health charts and actions', async () => {
    await row('local').getByRole('link', { name: 'local' }).click();
    await page.getByRole('heading', { name: 'local' }).waitFor();
    await page.getByText('Kernel').waitFor();
    await page.locator('.recharts-surface').first().waitFor();
    await page.getByRole('button', { name: 'Ping' }).click();
    await page.getByText(/Round trip: \d+ ms/).waitFor();
    await screenshot(page, shots('agent'));
  });

  it('creates an enrollment token; an agent enrolled with it appears in the fleet without a reload', async () => {
    await page.getByRole('link', { name: 'Add agent' }).first().click();
    await page.getByRole('button', { name: 'Create enrollment token' }).click();
    const linux = await page.locator('[data-install="linux"]').textContent();
    expect(linux).toMatch(/install\.sh \| sudo sh -s -- --token opt_/);
    await page.locator('[data-install="windows"]', { hasText: 'install.ps1' }).waitFor();
    const token = /--token (\S+)/.exec(linux!)![1]!;

    await page.getByRole('link', { name: 'Fleet' }).click();
    await row('local').waitFor();
    const dir = tempDir();
    const configPath = path.join(dir, 'agent.json');
    const enroll = new Child(process.execPath, [AGENT_MAIN, 'enroll', '--hub', hub.url, '--token', token, '--config', configPath, '--name', 'second'], process.env);
    await enroll.waitExit(30_000);
    expect(enroll.exitCode, enroll.output).toBe(0);
    const { agentId } = JSON.parse(readFileSync(configPath, 'utf8')) as { agentId: string };
    processes.push(startAgent({ agentId, command: BUNDLED_AGENT, configPath, dataDir: dir }));
    await row('second').locator('[data-status="online"]').waitFor();
  });

  it('runs `echo hi; sleep 1; echo there` on both agents and shows both lines of each live', async () => {
    await page.getByRole('link', { name: 'Run command' }).first().click();
    await page.getByLabel('Command').fill('echo hi; sleep 1; echo there');
    await pickAgent('local');
    await pickAgent('second');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('heading', { name: /^Run / }).waitFor();
    for (const name of ['local', 'second']) {
      const output = page.locator(`[aria-label="Output of ${name}"]`);
      // xterm.js draws only while the terminal is on screen.
      await output.scrollIntoViewIfNeeded();
      await output.filter({ hasText: 'hi' }).waitFor();
      await output.filter({ hasText: 'there' }).waitFor();
    }
    await page.locator('[data-execution] [data-status="succeeded"]').nth(1).waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await screenshot(page, shots('run'));

    await page.locator('[data-execution]').first().getByRole('link').click();
    await page.getByRole('heading', { name: /^Output on / }).waitFor();
    await page.locator('[aria-label="Output"]', { hasText: 'there' }).waitFor();
    await page.getByText('End of output.').waitFor();
    await screenshot(page, shots('execution'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download output' }).click()]);
    expect(readFileSync((await download.path())!, 'utf8')).toBe('hi\nthere\n');
  });

  it('cancels a long run', async () => {
    await page.getByRole('link', { name: 'Run command' }).first().click();
    await page.getByLabel('Command').fill('echo started; echo complaint >&2; sleep 60');
    await pickAgent('local');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('[aria-label="Output of local"]', { hasText: 'started' }).waitFor();
    // stderr is drawn in red (ANSI colour 1), stdout in the default colour.
    await page.locator('[aria-label="Output of local"] .xterm-fg-1', { hasText: 'complaint' }).waitFor();
    expect(await page.locator('[aria-label="Output of local"] .xterm-fg-1', { hasText: 'started' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-execution] [data-status="canceled"]').waitFor();
    await page.getByRole('button', { name: 'Rerun' }).waitFor();
  });

  it('creates, runs, pauses, resumes, edits and deletes a job', async () => {
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByText('No saved jobs yet.').waitFor();
    await page.getByRole('link', { name: 'New job' }).click();
    await page.getByLabel('Name').fill('say-job');
    await page.getByLabel('Command').fill('echo job-ran');
    await pickAgent('local');
    await page.getByRole('button', { name: 'Create job' }).click();
    const job = page.locator('tr[data-job="say-job"]');
    await job.getByText('on demand').waitFor();

    await job.getByRole('button', { name: 'Run now' }).click();
    await page.locator('[aria-label="Output of local"]', { hasText: 'job-ran' }).waitFor();

    await page.getByRole('link', { name: 'Jobs' }).click();
    await job.getByRole('button', { name: 'More actions for say-job' }).click();
    await page.getByRole('menuitem', { name: 'Pause' }).click();
    await job.locator('[data-status="paused"]').waitFor();
    await job.getByRole('button', { name: 'More actions for say-job' }).click();
    await page.getByRole('menuitem', { name: 'Resume' }).click();
    await job.locator('[data-status="active"]').waitFor();

    await job.getByRole('link', { name: 'say-job' }).click();
    await page.getByLabel('Command').fill('echo job-edited');
    await page.getByRole('button', { name: 'Save job' }).click();
    await job.getByText('echo job-edited').waitFor();

    page.once('dialog', (dialog) => void dialog.accept());
    await job.getByRole('button', { name: 'More actions for say-job' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByText('No saved jobs yet.').waitFor();
  });

  it('shows an API error in words: a second job with a taken name', async () => {
    expect((await hub.api('POST', '/api/v1/jobs', { name: 'taken', command: 'true', target: { all: true } })).status).toBe(201);
    const refused = await hub.api('POST', '/api/v1/jobs', { name: 'taken', command: 'true', target: { all: true } });
    await page.goto(`${hub.url}/jobs/new`);
    await page.getByLabel('Name').fill('taken');
    await page.getByLabel('Command').fill('true');
    await page.getByText('All agents', { exact: true }).click();
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('alert').filter({ hasText: 'The job was not saved' }).filter({ hasText: refused.body.error.message }).waitFor();
  });

  it('creates a scheduled job and shows the preview of its next runs', async (ctx) => {
    if (!(await hasScheduler())) ctx.skip(NO_SCHEDULER);
    await page.goto(`${hub.url}/jobs/new`);
    await page.getByLabel('Name').fill('nightly');
    await page.getByLabel('Command').fill('uptime');
    await page.getByText('All agents', { exact: true }).click();
    await page.getByText('Cron', { exact: true }).click();
    await page.getByLabel('Cron expression').fill('0 2 * * *');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.locator('[data-preview] li').nth(4).waitFor();
    expect(await page.locator('[data-preview]').textContent()).toMatch(/T0[01]:00:00/);
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.locator('tr[data-job="nightly"]').getByText('cron 0 2 * * * (Europe/Berlin)').waitFor();
  });

  it('explains an invalid schedule in words', async (ctx) => {
    if (!(await hasScheduler())) ctx.skip(NO_SCHEDULER);
    const refused = await hub.api('GET', `/api/v1/schedules/preview?cron=${encodeURIComponent('61 * * * *')}&timezone=UTC&count=5`);
    expect(refused.body.error.code).toBe('INVALID_SCHEDULE');
    await page.goto(`${hub.url}/jobs/new`);
    await page.getByText('Cron', { exact: true }).click();
    await page.getByLabel('Cron expression').fill('61 * * * *');
    await page.getByLabel('Time zone').fill('UTC');
    await page.getByRole('alert').filter({ hasText: 'Invalid schedule' }).filter({ hasText: refused.body.error.message }).waitFor();
  });

  it.skipIf(!hasBinary(AGENT_BINARY.linuxX64) || database === 'postgres')(
    'the Linux install command shown on Add agent, run as shown with a temporary prefix, enrolls an agent that appears in the fleet',
    async () => {
      await page.goto(`${hub.url}/agents/new`);
      await page.getByLabel('Labels for the new agents').fill('via=dashboard');
      await page.getByRole('button', { name: 'Create enrollment token' }).click();
      const shown = (await page.locator('[data-install="linux"]').textContent())!;
      const prefix = tempDir();
      // As shown, plus a prefix of our own; this test runs as root, where sudo may not be installed.
      const command = `${spawnSync('sh', ['-c', 'command -v sudo']).status === 0 ? shown : shown.replace('| sudo sh', '| sh')} --prefix ${prefix} --no-service`;
      const install = new Child('sh', ['-c', command], process.env);
      await install.waitExit(120_000);
      expect(install.exitCode, install.output).toBe(0);
      const [binary, ...args] = install.output.split('\n').find((line) => /^ {2}\S+outpost-agent run --config /.test(line))!.trim().split(' ');
      processes.push(new Child(binary!, args, { PATH: '/usr/bin:/bin' }));
      await page.goto(`${hub.url}/?labels=via=dashboard`);
      await page.locator('tr[data-agent] [data-status="online"]').waitFor({ timeout: 60_000 });
    },
  );

  it('at 390 px wide, the fleet and execution pages do not overflow sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    phone.setDefaultTimeout(UI_TIMEOUT);
    try {
      const small = await phone.newPage();
      await logIn(small);
      await small.locator('[data-agent="local"]').first().waitFor();
      expect(await overflowsHorizontally(small)).toBe(false);
      await screenshot(small, shots('fleet-phone'));
      const executions = await hub.api('GET', `/api/v1/executions?agentId=${local.agentId}&limit=1`);
      await small.goto(`${hub.url}/executions/${executions.body.items[0].id}`);
      await small.getByRole('heading', { name: /^Output on / }).waitFor();
      await small.locator('.xterm-rows').first().waitFor();
      expect(await overflowsHorizontally(small)).toBe(false);
      await screenshot(small, shots('execution-phone'));
    } finally {
      await phone.close();
    }
  });

  it('a session ended elsewhere returns to the login page with a message', async () => {
    const viewer = await createUser(hub, 'viewer-vic', 'viewer');
    const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    other.setDefaultTimeout(UI_TIMEOUT);
    try {
      const viewerPage = await other.newPage();
      await logIn(viewerPage, 'viewer-vic', viewer.password);
      await viewerPage.getByText('viewer-vic (viewer)').waitFor();
      expect((await hub.api('PATCH', `/api/v1/users/${viewer.id}`, { disabled: true })).status).toBe(200);
      await viewerPage.getByText('Your session has ended').waitFor();
      await viewerPage.getByRole('button', { name: 'Log in' }).waitFor();
    } finally {
      await other.close();
    }
  });

  it('logs out, and a reload stays logged out', async () => {
    await page.goto(hub.url);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(cspViolations).toEqual([]);
  });
});
