import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HUB_MAIN } from './support/paths';
import { Child } from './support/child-process';
import { TestHub } from './support/test-hub';
import { enrollAgent } from './support/test-agent';

describe('embedded database', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate') });
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  it('refuses a second hub on the same data folder with a clear message', async () => {
    const second = new Child(process.execPath, [HUB_MAIN], {
      ...process.env,
      HUB_DATA_DIR: hub.dataDir,
      HUB_PORT: '0',
      HUB_ADMIN_PASSWORD: 'another-password',
      DATABASE_URL: '',
    });
    await second.waitExit(30_000);
    expect(second.exitCode).toBe(2);
    expect(second.output).toContain(`The data folder ${hub.dataDir} is in use by another hub (pid ${hub.child.pid})`);
    // The first hub is untouched.
    expect((await hub.request('GET', '/health/ready', undefined, null)).status).toBe(200);
  });

  it('reopens cleanly after the hub is killed with SIGKILL, with its data intact', async () => {
    const agent = await enrollAgent(hub, { labels: { kept: 'yes' } });
    const token = await hub.api('POST', '/api/v1/enrollment-tokens', {});
    await hub.kill9();
    expect(hub.child.exitSignal).toBe('SIGKILL');
    await hub.launch();
    const again = await hub.api('GET', `/api/v1/agents/${agent.agentId}`);
    expect(again.status).toBe(200);
    expect(again.body.labels).toEqual({ kept: 'yes' });
    const tokens = await hub.api('GET', '/api/v1/enrollment-tokens');
    expect(tokens.body.items.map((t: any) => t.id)).toContain(token.body.id);
  });
});
