import { describe, expect, it } from 'vitest';
import type { ServiceDefinition } from './service-definition';
import type { ServiceHost } from './service-host';
import { serviceManagerFor } from './service-manager';
import { SYSTEMD_UNIT_PATH } from './systemd.service-manager';

/** Records every side effect; `run` answers from `answers` (command line → exit code and output). */
function fakeHost(
  platform: NodeJS.Platform,
  options: { existing?: string[]; root?: boolean; answers?: Record<string, { exitCode: number; output: string }> } = {},
) {
  const files = new Map<string, { content: string; mode: number }>();
  const existing = new Set(options.existing ?? []);
  const calls: string[] = [];
  const host: ServiceHost = {
    platform,
    exists: (path) => existing.has(path) || files.has(path),
    writeFile: async (path, content, mode) => {
      calls.push(`write ${path} ${mode.toString(8)}`);
      files.set(path, { content, mode });
    },
    removeFile: async (path) => {
      calls.push(`remove ${path}`);
      files.delete(path);
      existing.delete(path);
    },
    makeDirectory: async (path, mode) => void calls.push(`mkdir ${path} ${mode.toString(8)}`),
    run: async (command, args) => {
      const line = [command, ...args].join(' ');
      calls.push(`run ${line}`);
      return options.answers?.[line] ?? { exitCode: 0, output: '' };
    },
    isAdministrator: () => options.root ?? true,
  };
  return { host, files, calls };
}

const linux: ServiceDefinition = {
  command: ['/usr/local/bin/outpost-agent'],
  configPath: '/etc/outpost/agent.json',
  dataDir: '/var/lib/outpost',
  environment: {},
  sandbox: true,
  extraReadWritePaths: [],
};

describe('systemd service', () => {
  it('writes the unit 0644, creates the writable directories, reloads, enables and (re)starts', async () => {
    const { host, files, calls } = fakeHost('linux', { existing: ['/run/systemd/system'] });
    const lines = await serviceManagerFor(host, { executable: '/usr/local/bin/outpost-agent' }).install(linux);
    expect(calls).toEqual([
      'mkdir /etc/outpost 700',
      'mkdir /var/lib/outpost 700',
      `write ${SYSTEMD_UNIT_PATH} 644`,
      'run systemctl daemon-reload',
      'run systemctl enable outpost-agent.service',
      'run systemctl restart outpost-agent.service',
    ]);
    expect(files.get(SYSTEMD_UNIT_PATH)?.content).toContain('ExecStart=/usr/local/bin/outpost-agent run --config /etc/outpost/agent.json');
    expect(lines.join('\n')).toContain('journalctl -u outpost-agent.service');
  });

  it('refuses without systemd, saying how to start the agent by hand', async () => {
    const { host, calls } = fakeHost('linux');
    await expect(serviceManagerFor(host, { executable: '/x' }).install({ ...linux, dataDir: '/var/lib/out post' })).rejects.toThrow(
      "systemd is not running on this host (no /run/systemd/system), so there is no service to manage; start the agent by hand instead: /usr/local/bin/outpost-agent run --config /etc/outpost/agent.json --data-dir '/var/lib/out post'",
    );
    expect(calls).toEqual([]);
  });

  it('refuses without root', async () => {
    const { host, calls } = fakeHost('linux', { existing: ['/run/systemd/system'], root: false });
    await expect(serviceManagerFor(host, { executable: '/x' }).install(linux)).rejects.toThrow('needs root: run it with sudo');
    expect(calls).toEqual([]);
  });

  it('reports a failing systemctl with its output', async () => {
    const { host } = fakeHost('linux', {
      existing: ['/run/systemd/system'],
      answers: { 'systemctl restart outpost-agent.service': { exitCode: 1, output: 'Job failed. See journalctl -xe' } },
    });
    await expect(serviceManagerFor(host, { executable: '/x' }).install(linux)).rejects.toThrow(
      'systemctl restart outpost-agent.service failed (exit 1): Job failed. See journalctl -xe',
    );
  });

  it('uninstalls: stops and disables, removes the unit, reloads; and says when there is nothing to do', async () => {
    const { host, calls } = fakeHost('linux', { existing: ['/run/systemd/system', SYSTEMD_UNIT_PATH] });
    const manager = serviceManagerFor(host, { executable: '/x' });
    expect((await manager.uninstall()).join('\n')).toContain('config file and data directory are left in place');
    expect(calls).toEqual([
      'run systemctl disable --now outpost-agent.service',
      `remove ${SYSTEMD_UNIT_PATH}`,
      'run systemctl daemon-reload',
    ]);
    expect(await manager.uninstall()).toEqual([`${SYSTEMD_UNIT_PATH} is not installed; nothing to do`]);
  });
});

describe('Windows service (WinSW)', () => {
  const exe = 'C:\\Program Files\\Outpost\\outpost-agent.exe';
  const wrapper = 'C:\\Program Files\\Outpost\\outpost-agent-service.exe';
  const xml = 'C:\\Program Files\\Outpost\\outpost-agent-service.xml';
  const windows: ServiceDefinition = {
    command: [exe],
    configPath: 'C:\\ProgramData\\Outpost\\agent.json',
    dataDir: 'C:\\ProgramData\\Outpost',
    environment: {},
    sandbox: true,
    extraReadWritePaths: [],
  };

  it('writes the XML and the .NET runtime config beside the wrapper, then installs and starts the service', async () => {
    const { host, files, calls } = fakeHost('win32', {
      existing: [wrapper],
      answers: { [`${wrapper} status`]: { exitCode: 0, output: 'NonExistent' } },
    });
    await serviceManagerFor(host, { executable: exe }).install(windows);
    expect(calls).toEqual([
      'mkdir C:\\ProgramData\\Outpost 700',
      'mkdir C:\\ProgramData\\Outpost\\logs 700',
      `run ${wrapper} status`,
      `write ${xml} 644`,
      `write ${wrapper}.config 644`,
      `run ${wrapper} install`,
      `run ${wrapper} start`,
    ]);
    expect(files.get(`${wrapper}.config`)?.content).toContain('<supportedRuntime version="v4.0" />');
    expect(files.get(xml)?.content).toContain(
      '<arguments>run --config C:\\ProgramData\\Outpost\\agent.json --data-dir C:\\ProgramData\\Outpost</arguments>',
    );
  });

  it('replaces an installed service on a re-install', async () => {
    const { host, calls } = fakeHost('win32', { existing: [wrapper], answers: { [`${wrapper} status`]: { exitCode: 0, output: 'Started' } } });
    await serviceManagerFor(host, { executable: exe }).install(windows);
    expect(calls.filter((c) => c.startsWith('run'))).toEqual([
      `run ${wrapper} status`,
      `run ${wrapper} stop`,
      `run ${wrapper} uninstall`,
      `run ${wrapper} install`,
      `run ${wrapper} start`,
    ]);
  });

  it('refuses when the wrapper is missing, and uninstalls cleanly', async () => {
    const missing = fakeHost('win32');
    await expect(serviceManagerFor(missing.host, { executable: exe }).install(windows)).rejects.toThrow(
      `the service wrapper ${wrapper} is missing`,
    );
    const { host, calls } = fakeHost('win32', { existing: [wrapper, xml], answers: { [`${wrapper} status`]: { exitCode: 0, output: 'Stopped' } } });
    await serviceManagerFor(host, { executable: exe }).uninstall();
    expect(calls).toEqual([`run ${wrapper} status`, `run ${wrapper} stop`, `run ${wrapper} uninstall`, `remove ${xml}`]);
  });

  it('is not offered on other systems', () => {
    expect(() => serviceManagerFor(fakeHost('darwin').host, { executable: '/x' })).toThrow('supported on Linux (systemd) and Windows, not on darwin');
  });
});
