import { existsSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHROMIUM, launchChromium, overflowsHorizontally, screenshot } from '../support/browser';
import { Child } from '../support/child-process';
import { AGENT_MAIN, ROOT } from '../support/paths';
import { enrollAgent, type EnrolledAgent, startAgent } from '../support/test-agent';
import { ADMIN_PASSWORD, TestHub } from '../support/test-hub';
import { waitFor } from '../support/wait';

const UI_TIMEOUT = 20_000;

describe.skipIf(!existsSync(CHROMIUM))('dashboard in a real browser', () => {
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let local: EnrolledAgent;
  const processes: Child[] = [];
  const tempDirs: string[] = [];

  const row = (name: string) => page.locator(`tr[data-agent="${name}"]`);

  async function logIn(target: Page): Promise<void> {
    await target.goto(hub.url);
    await target.getByLabel('Username').fill('admin');
    await target.getByRole('textbox', { name: 'Password' }).fill(ADMIN_PASSWORD);
    await target.getByRole('button', { name: 'Log in' }).click();
    await target.getByRole('heading', { name: 'Fleet' }).waitFor();
  }

  beforeAll(async () => {
    expect(existsSync(path.join(ROOT, 'dist/apps/dashboard/index.html')), 'the dashboard is built').toBe(true);
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate'), env: { HUB_AGENT_HEALTH_INTERVAL_S: '1' } });
    local = await enrollAgent(hub, { name: 'local', labels: { env: 'test' } });
    processes.push(startAgent(local));
    await hub.waitForAgentStatus(local.agentId, 'online');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
  });

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' || task.result?.errors?.length) await screenshot(page, `failed-${task.name.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await hub?.destroy();
  });

  it('serves the app at / without shadowing the API, and logs in; the session survives a reload', async () => {
    const apiMiss = await hub.request('GET', '/api/v1/no-such-route', undefined, null);
    expect(apiMiss.headers.get('content-type')).toContain('application/json');
    expect((await hub.request('GET', '/health/live', undefined, null)).status).toBe(200);
    const deepLink = await hub.fetchRaw('/agents/some-id', { headers: { accept: 'text/html' } });
    expect(await deepLink.text()).toContain('<div id="root">');

    await logIn(page);
    expect(await page.evaluate<string>('JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie')).not.toMatch(/eyJ|opr_/);
    await page.reload();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
  });

  it('shows the local agent online with health numbers', async () => {
    await row('local').locator('[data-status="online"]').waitFor();
    await row('local').locator('[data-metric="cpu"]', { hasText: /\d+%/ }).waitFor();
    await row('local').locator('[data-metric="memory"]', { hasText: /\d+%/ }).waitFor();
    await row('local').getByText('env=test').waitFor();
    await screenshot(page, 'fleet');
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
    await screenshot(page, 'agent');
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
    const second = await enrollWithToken(token, 'second');
    processes.push(startAgent(second));
    await row('second').locator('[data-status="online"]').waitFor();
  });

  it('runs `echo hi; sleep 1; echo there` on both agents and shows both lines of each live', async () => {
    await page.getByRole('link', { name: 'Run command' }).first().click();
    await page.getByLabel('Command').fill('echo hi; sleep 1; echo there');
    for (const name of ['local', 'second']) {
      await page.getByRole('combobox', { name: 'Agents' }).click();
      await page.getByRole('option', { name: new RegExp(`^${name} `) }).click();
    }
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
    await page.locator('[data-status="succeeded"]').first().waitFor();

    await page.locator('[data-execution]').first().getByRole('link').click();
    await page.getByRole('heading', { name: /^Output on / }).waitFor();
    await page.locator('[aria-label="Output"]', { hasText: 'there' }).waitFor();
    await page.getByText('End of output.').waitFor();
    await screenshot(page, 'execution');
  });

  it('cancels a long run', async () => {
    await page.getByRole('link', { name: 'Run command' }).first().click();
    await page.getByLabel('Command').fill('echo started; sleep 60');
    await page.getByRole('combobox', { name: 'Agents' }).click();
    await page.getByRole('option', { name: /^local / }).click();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('[aria-label="Output of local"]', { hasText: 'started' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-execution] [data-status="canceled"]').waitFor();
    await page.getByRole('button', { name: 'Rerun' }).waitFor();
  });

  it('at 390 px wide, the fleet and execution pages do not overflow sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    phone.setDefaultTimeout(UI_TIMEOUT);
    try {
      const small = await phone.newPage();
      await logIn(small);
      await small.locator('[data-agent="local"]').first().waitFor();
      expect(await overflowsHorizontally(small)).toBe(false);
      await screenshot(small, 'fleet-phone');
      const executions = await hub.api('GET', `/api/v1/executions?agentId=${local.agentId}&limit=1`);
      await small.goto(`${hub.url}/executions/${executions.body.items[0].id}`);
      await small.getByRole('heading', { name: /^Output on / }).waitFor();
      await small.locator('.xterm-rows').first().waitFor();
      expect(await overflowsHorizontally(small)).toBe(false);
      await screenshot(small, 'execution-phone');
    } finally {
      await phone.close();
    }
  });

  it('logs out, and a reload stays logged out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  });

  async function enrollWithToken(token: string, name: string): Promise<EnrolledAgent> {
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-agent-'));
    tempDirs.push(dataDir);
    const configPath = path.join(dataDir, 'agent.json');
    const enroll = new Child(process.execPath, [AGENT_MAIN, 'enroll', '--hub', hub.url, '--token', token, '--config', configPath, '--name', name], process.env);
    await enroll.waitExit(30_000);
    expect(enroll.exitCode, enroll.output).toBe(0);
    const { agentId } = JSON.parse(readFileSync(configPath, 'utf8')) as { agentId: string };
    return { agentId, configPath, dataDir };
  }
});
