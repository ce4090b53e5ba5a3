import { execa } from 'execa';
import { errorCode } from '../errors';
import { pollUntil } from './poll-until';
import type { ProcessTree } from './process-tree';

const TASKKILL_DEADLINE_MS = 10_000;

/**
 * Windows has no process groups to signal and no polite signal that reaches a console program,
 * so the tree is killed at once with taskkill /T /F (it walks parent links from `pid`). The
 * grace period is not used: there is nothing gentler to try first. Not spawned detached,
 * because on Windows that opens a new console window instead of creating a group.
 */
export const windowsProcessTree: ProcessTree = {
  detached: false,
  async stop(pid) {
    await execa('taskkill', ['/PID', String(pid), '/T', '/F'], {
      reject: false,
      windowsHide: true,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
    });
    return pollUntil(() => !isAlive(pid), TASKKILL_DEADLINE_MS);
  },
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}
