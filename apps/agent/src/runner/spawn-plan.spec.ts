import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discardSpawn, prepareSpawn } from './spawn-plan';

const executionId = '00000000-0000-4000-8000-0000000000aa';

describe('prepareSpawn', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'outpost-plan-'));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('hands a command to the OS shell as a single argument', async () => {
    const spec = { kind: 'command', command: 'echo "a b"; rm -rf nothing' } as const;
    expect(await prepareSpawn(spec, { platform: 'linux', dataDir, executionId })).toEqual({
      file: '/bin/sh',
      args: ['-c', 'echo "a b"; rm -rf nothing'],
    });
    expect(await prepareSpawn(spec, { platform: 'win32', dataDir, executionId })).toEqual({
      file: 'powershell.exe',
      args: ['-NoProfile', '-NonInteractive', '-Command', 'echo "a b"; rm -rf nothing'],
    });
  });

  it('execs argv directly', async () => {
    expect(
      await prepareSpawn({ kind: 'argv', argv: ['/usr/bin/env', 'a b', '$X'] }, { platform: 'linux', dataDir, executionId }),
    ).toEqual({ file: '/usr/bin/env', args: ['a b', '$X'] });
  });

  it.each([
    ['bash', 'linux', 'bash', []],
    ['sh', 'linux', '/bin/sh', []],
    ['powershell', 'win32', 'powershell.exe', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File']],
    ['pwsh', 'linux', 'pwsh', ['-NoProfile', '-NonInteractive', '-File']],
    ['cmd', 'win32', 'cmd.exe', ['/d', '/c']],
  ] as const)('runs a %s script file on %s', async (shell, platform, file, flags) => {
    const plan = await prepareSpawn({ kind: 'script', shell, script: 'line 1\nline 2\n' }, { platform, dataDir, executionId });
    expect(plan.file).toBe(file);
    expect(plan.args).toEqual([...flags, plan.scriptPath]);
    expect(plan.scriptPath?.startsWith(join(dataDir, 'scripts', executionId))).toBe(true);
    expect(statSync(plan.scriptPath as string).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'scripts')).mode & 0o777).toBe(0o700);
    const expected = shell === 'cmd' ? 'line 1\r\nline 2\r\n' : 'line 1\nline 2\n';
    expect(readFileSync(plan.scriptPath as string, 'utf8')).toBe(expected);
    await discardSpawn(plan);
    expect(() => statSync(plan.scriptPath as string)).toThrow();
  });
});
