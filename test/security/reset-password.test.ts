import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_PASSWORD, TestHub } from '../support/test-hub';
import { LiveClient, login } from '../support/users';

const NEW_PASSWORD_LINE = /New password for admin: (\S+)/;

describe('npm run hub -- reset-password, on the embedded database', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate') });
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  it('refuses while the hub holds the data folder, then sets and prints a new password once it is stopped', async () => {
    const whileRunning = await hub.runCommand(['reset-password', 'admin']);
    expect(whileRunning.exitCode).toBe(2);
    expect(whileRunning.output).toMatch(/in use by another hub/);

    await hub.stop();
    const unknown = await hub.runCommand(['reset-password', 'mallory']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.output).toMatch(/no user named "mallory"/);
    const usage = await hub.runCommand(['reset-password']);
    expect(usage.exitCode).toBe(2);
    expect(usage.output).toMatch(/Usage: npm run hub -- reset-password <username>/);

    const reset = await hub.runCommand(['reset-password', 'admin']);
    expect(reset.exitCode).toBe(0);
    const password = NEW_PASSWORD_LINE.exec(reset.output)![1];

    await hub.launch();
    expect((await hub.request('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, null)).status).toBe(401);
    await login(hub, 'admin', password);
  });
});

describe.runIf(process.env.DATABASE_URL)('npm run hub -- reset-password, on PostgreSQL with the hub running', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'postgres' });
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  it('ends the admin sessions and cuts their live sockets on the running hub', async () => {
    const session = await login(hub, 'admin', ADMIN_PASSWORD);
    const live = await LiveClient.connect(hub, session.accessToken);
    const started = Date.now();
    const reset = await hub.runCommand(['reset-password', 'admin']);
    expect(reset.exitCode).toBe(0);
    const password = NEW_PASSWORD_LINE.exec(reset.output)![1];
    expect(await live.waitCut(started, 10_000)).toBeGreaterThanOrEqual(0);
    expect((await hub.request('GET', '/api/v1/auth/me', undefined, session.accessToken)).status).toBe(401);
    await login(hub, 'admin', password);
  });
});
