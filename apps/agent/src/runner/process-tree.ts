import { posixProcessTree } from './process-tree.posix';
import { windowsProcessTree } from './process-tree.windows';

/** Stopping a command means stopping everything it started; how depends on the OS. */
export interface ProcessTree {
  /** Spawn option for the command's root process (see each implementation for why). */
  readonly detached: boolean;
  /**
   * Stops every process of the tree rooted at `pid`: politely where the OS has a way, forcibly
   * after `graceMs`. Resolves true once none is left, false if some survived the deadline.
   */
  stop(pid: number, graceMs: number): Promise<boolean>;
}

export function processTreeFor(platform: NodeJS.Platform): ProcessTree {
  return platform === 'win32' ? windowsProcessTree : posixProcessTree;
}
