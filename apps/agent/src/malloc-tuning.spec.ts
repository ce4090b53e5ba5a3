import { describe, expect, it, vi } from 'vitest';
import { MALLOC_TUNABLES, MALLOC_TUNED_MARKER, tuneMalloc } from './malloc-tuning';

const fakeProcess = (argv: string[], env: NodeJS.ProcessEnv = { PATH: '/bin' }, platform = 'linux') =>
  ({ argv, env, platform, execPath: process.execPath, execArgv: ['--lite-mode'] }) as unknown as NodeJS.Process;

describe('tuneMalloc', () => {
  it('re-executes a single executable\'s run with the tunables and its own arguments', () => {
    const proc = fakeProcess([process.execPath, process.execPath, 'run', '--config', 'a.json']);
    const execve = vi.fn();
    tuneMalloc(proc, execve as never, true);
    expect(execve).toHaveBeenCalledWith(process.execPath, [process.execPath, 'run', '--config', 'a.json'], {
      PATH: '/bin',
      GLIBC_TUNABLES: MALLOC_TUNABLES,
      [MALLOC_TUNED_MARKER]: '1',
    });
  });

  it('re-executes a script with Node\'s options and the script\'s path', () => {
    const proc = fakeProcess(['/usr/bin/node', '/opt/agent/main.cjs', 'run']);
    const execve = vi.fn();
    tuneMalloc(proc, execve as never, false);
    expect(execve.mock.calls[0]?.[1]).toEqual([process.execPath, '--lite-mode', '/opt/agent/main.cjs', 'run']);
  });

  it('takes its own tunables out of the environment after the re-execution, so commands never see them', () => {
    const proc = fakeProcess([process.execPath, process.execPath, 'run'], {
      PATH: '/bin',
      GLIBC_TUNABLES: MALLOC_TUNABLES,
      [MALLOC_TUNED_MARKER]: '1',
    });
    const execve = vi.fn();
    tuneMalloc(proc, execve as never, true);
    expect(execve).not.toHaveBeenCalled();
    expect(proc.env).toEqual({ PATH: '/bin' });
  });

  it('leaves everything else alone: other commands, an operator\'s own tunables, no execve, not Linux', () => {
    const execve = vi.fn();
    tuneMalloc(fakeProcess([process.execPath, process.execPath, 'status']), execve as never, true);
    const own = fakeProcess([process.execPath, process.execPath, 'run'], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=1' });
    tuneMalloc(own, execve as never, true);
    tuneMalloc(fakeProcess([process.execPath, process.execPath, 'run'], {}, 'win32'), execve as never, true);
    expect(execve).not.toHaveBeenCalled();
    expect(own.env).toEqual({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=1' });
    expect(() => tuneMalloc(fakeProcess([process.execPath, process.execPath, 'run']), undefined, true)).not.toThrow();
  });
});
