import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceDefinition } from './service-definition';
import { systemdUnitFor } from './systemd.service-manager';
import { renderSystemdUnit, systemdEnvironment, systemdExecWord, systemdPath } from './systemd-unit';

const definition: ServiceDefinition = {
  command: ['/usr/local/bin/outpost-agent'],
  configPath: '/etc/outpost/agent.json',
  dataDir: '/var/lib/outpost',
  environment: {},
  sandbox: true,
  extraReadWritePaths: [],
};

/** `Key=value` lines of the unit, comments and blanks left out. */
function directives(unit: string): string[] {
  return unit.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('the systemd unit', () => {
  it('runs the agent with its config and data directory, restarts it always, and sandboxes it', () => {
    expect(directives(systemdUnitFor(definition))).toEqual([
      '[Unit]',
      'Description=Outpost agent (runs the commands its hub dispatches)',
      'After=network-online.target',
      'Wants=network-online.target',
      'StartLimitIntervalSec=0',
      '[Service]',
      'Type=simple',
      'ExecStart=/usr/local/bin/outpost-agent run --config /etc/outpost/agent.json --data-dir /var/lib/outpost',
      'Restart=always',
      'RestartSec=5',
      'TimeoutStopSec=45',
      'KillMode=mixed',
      'EnvironmentFile=-/etc/outpost/agent.env',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/etc/outpost',
      'ReadWritePaths=/var/lib/outpost',
      'ProtectHome=read-only',
      'PrivateTmp=yes',
      'RestrictSUIDSGID=yes',
      'RestrictRealtime=yes',
      'LockPersonality=yes',
      '[Install]',
      'WantedBy=multi-user.target',
    ]);
  });

  it('leaves the sandbox out on request, and lists each writable path once', () => {
    const open = systemdUnitFor({ ...definition, sandbox: false });
    expect(open).not.toMatch(/ProtectSystem|ReadWritePaths|NoNewPrivileges|PrivateTmp|sandbox:/);
    expect(open).toContain('Restart=always');
    const sameDir = systemdUnitFor({ ...definition, dataDir: '/etc/outpost', extraReadWritePaths: ['/srv/www'] });
    expect(directives(sameDir).filter((line) => line.startsWith('ReadWritePaths='))).toEqual([
      'ReadWritePaths=/etc/outpost',
      'ReadWritePaths=/srv/www',
    ]);
  });

  it('hands the installer’s proxy settings on, quoted', () => {
    const unit = systemdUnitFor({ ...definition, environment: { NO_PROXY: 'localhost,.corp', HTTPS_PROXY: 'http://p:3128' } });
    expect(directives(unit).filter((line) => line.startsWith('Environment='))).toEqual([
      'Environment="HTTPS_PROXY=http://p:3128"',
      'Environment="NO_PROXY=localhost,.corp"',
    ]);
  });

  it('escapes what systemd would expand or split: spaces, quotes, % and $', () => {
    expect(systemdExecWord('/opt/out post/agent')).toBe('"/opt/out post/agent"');
    expect(systemdExecWord('/opt/100%/a$HOME')).toBe('/opt/100%%/a$$HOME');
    expect(systemdExecWord('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(systemdPath('/var/lib/out post')).toBe('"/var/lib/out post"');
    expect(() => systemdPath('relative/dir')).toThrow('absolute path');
    expect(() => systemdExecWord('two\nlines')).toThrow('line break');
    expect(systemdEnvironment('HTTPS_PROXY', 'http://u:p%40ss@proxy')).toBe('Environment="HTTPS_PROXY=http://u:p%%40ss@proxy"');
    expect(() => systemdEnvironment('BAD NAME', 'x')).toThrow('invalid environment variable name');
  });

  it('refuses a relative binary and an unknown placeholder', () => {
    expect(() => systemdUnitFor({ ...definition, command: ['outpost-agent'] })).toThrow('absolute path');
    expect(() =>
      renderSystemdUnit('ExecStart=@EXEC_START@\n@NOPE@\n', {
        command: ['/bin/true'],
        readWritePaths: [],
        environmentFile: '/e',
        environment: {},
        sandbox: false,
      }),
    ).toThrow('unknown placeholder @NOPE@');
  });

  describe.skipIf(!hasSystemdAnalyze)('systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-unit-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    function verify(unit: string): { status: number | null; output: string } {
      const path = join(dir, 'outpost-agent.service');
      writeFileSync(path, unit);
      const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    }

    it.each([
      ['sandboxed', true],
      ['without the sandbox', false],
    ])('passes on the unit, %s, with awkward paths', (_name, sandbox) => {
      const binary = join(dir, 'bin dir', 'outpost-agent');
      execFileSync('mkdir', ['-p', join(dir, 'bin dir')]);
      writeFileSync(binary, '#!/bin/sh\n');
      chmodSync(binary, 0o755);
      const unit = systemdUnitFor({
        ...definition,
        command: [binary],
        configPath: join(dir, 'etc 100%', 'agent.json'),
        dataDir: join(dir, 'data'),
        environment: { HTTPS_PROXY: 'http://user:p%40ss@proxy:3128', NO_PROXY: 'localhost, .corp' },
        sandbox,
      });
      expect(verify(unit)).toEqual({ status: 0, output: '' });
    });

    it('fails on a unit whose binary does not exist (so the check above means something)', () => {
      const result = verify(systemdUnitFor({ ...definition, command: [join(dir, 'missing')] }));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('is not executable');
    });
  });
});
