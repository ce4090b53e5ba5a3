import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isRunning, levelPids, TRAPPED_TREE } from '../testing/process-tree-fixture';
import { waitFor } from '../testing/test-support';
import { posixProcessTree } from './process-tree.posix';

describe.skipIf(process.platform !== 'linux')('posixProcessTree', () => {
  it('kills a whole tree in which one level ignores SIGTERM', async () => {
    const child = execa('/bin/sh', ['-c', TRAPPED_TREE], { detached: true, buffer: false, reject: false, stdin: 'ignore' });
    let output = '';
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
    await waitFor('all three levels to start', () => levelPids(output).length === 3);
    const pids = levelPids(output);
    expect(pids.every(isRunning)).toBe(true);

    const started = Date.now();
    const gone = await posixProcessTree.stop(child.pid as number, 300);
    expect(gone).toBe(true);
    // The trapped levels outlive SIGTERM, so only the SIGKILL after the grace period ends them.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(pids.filter(isRunning)).toEqual([]);
    await child;
  });

  it('returns as soon as SIGTERM is enough', async () => {
    const child = execa('/bin/sh', ['-c', 'echo "L1 $$"; sleep 1000 & wait'], {
      detached: true,
      buffer: false,
      reject: false,
      stdin: 'ignore',
    });
    let output = '';
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
    await waitFor('the shell to start', () => levelPids(output).length === 1);
    const started = Date.now();
    expect(await posixProcessTree.stop(child.pid as number, 10_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    const result = await child;
    expect(result.signal).toBe('SIGTERM');
  });
});
