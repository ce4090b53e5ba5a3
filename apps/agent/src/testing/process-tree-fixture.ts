import { readFileSync } from 'node:fs';

/**
 * Three levels: the root shell, a shell that ignores SIGTERM, and a shell under it running
 * `sleep`. Each level prints its `$$` so a test can check every one of them afterwards.
 */
export const TRAPPED_TREE = `
echo "L1 $$"
sh -c '
  trap "" TERM
  echo "L2 $$"
  sh -c "echo L3 \\$\\$; sleep 1000" &
  wait
' &
wait
`;

/** The pids the tree's levels printed (`L1 123`). */
export function levelPids(output: string): number[] {
  return [...output.matchAll(/^L\d (\d+)$/gm)].map((match) => Number(match[1]));
}

/** Running, read from /proc: a zombie has exited, and a non-reaping PID 1 may keep one forever. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
