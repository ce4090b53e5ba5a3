import { accessSync, constants } from 'node:fs';
import { isSea } from 'node:sea';

/**
 * Idle memory (issue #3). glibc's malloc, left to itself, raises its trim threshold to twice the
 * largest block it has given back to the kernel, so how much freed start-up memory the agent kept
 * in its heap (4 or 8 MB) came down to the order of a few allocations: shrinking the bundle by
 * 0.3 MB cost 3 MB. A fixed threshold makes glibc trim as it did before any adjustment. glibc reads
 * its tunables from the environment only when a process starts, so the long-running `run`
 * re-executes itself once with them set (same pid, so a service manager sees no change), and then
 * removes them from its environment: the commands it runs get the operator's environment.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.trim_threshold=131072';

/** Set on the re-executed agent only, so it knows the tunables in its environment are its own. */
export const MALLOC_TUNED_MARKER = 'OUTPOST_AGENT_MALLOC_TUNED';

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/**
 * Re-executes `run` with {@link MALLOC_TUNABLES} where that is possible (Linux, a Node with
 * `process.execve`, i.e. the binary's Node 24), or clears them after the re-execution. Returns
 * only when the process carries on as it is; an operator's own `GLIBC_TUNABLES` is left alone.
 */
export function tuneMalloc(
  proc: NodeJS.Process = process,
  execve = (proc as NodeJS.Process & { execve?: Execve }).execve,
  sea = isSea(),
): void {
  if (proc.env[MALLOC_TUNED_MARKER] !== undefined) {
    delete proc.env[MALLOC_TUNED_MARKER];
    delete proc.env.GLIBC_TUNABLES;
    return;
  }
  if (proc.platform !== 'linux' || !execve || proc.argv[2] !== 'run' || proc.env.GLIBC_TUNABLES !== undefined) return;
  // A single executable takes every argument as its own; a script needs Node's options and its path.
  const args = sea ? proc.argv.slice(2) : [...proc.execArgv, ...proc.argv.slice(1)];
  // Node aborts the process when execve fails, so an agent that cannot run itself again (moved,
  // not executable by this user) skips it instead of failing every start.
  try {
    accessSync(proc.execPath, constants.X_OK);
  } catch {
    return;
  }
  execve.call(proc, proc.execPath, [proc.execPath, ...args], {
    ...proc.env,
    GLIBC_TUNABLES: MALLOC_TUNABLES,
    [MALLOC_TUNED_MARKER]: '1',
  });
}
