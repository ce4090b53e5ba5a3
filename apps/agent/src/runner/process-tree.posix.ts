import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { errorCode } from '../errors';
import { pollUntil } from './poll-until';
import type { ProcessTree } from './process-tree';

/** After SIGKILL the kernel needs only moments; this bounds the wait if something is stuck in D state. */
const KILLED_DEADLINE_MS = 5_000;

/**
 * The command is spawned detached, so it leads a new process group whose id is its pid; every
 * descendant stays in that group unless it deliberately leaves (setsid), so signalling the group
 * reaches the whole tree, including children whose parent already died.
 */
export const posixProcessTree: ProcessTree = {
  detached: true,
  async stop(pgid, graceMs) {
    signalGroup(pgid, 'SIGTERM');
    if (await pollUntil(() => groupGone(pgid), graceMs)) return true;
    signalGroup(pgid, 'SIGKILL');
    return pollUntil(() => groupGone(pgid), KILLED_DEADLINE_MS);
  },
};

/**
 * Failures are not thrown: ESRCH means the group is already gone, and any other failure (EPERM
 * for a member that changed its user id) shows up as a group that does not empty, which `stop`
 * reports.
 */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // See above: the outcome is judged by whether the group empties, not by this call.
  }
}

/**
 * Whether no live process is left in the group. On Linux this reads /proc rather than asking
 * kill(2): a killed orphan is re-parented to PID 1, and an init that does not reap (common in
 * containers and micro-VMs) leaves it a zombie forever, which kill(2) still counts as present.
 */
export async function groupGone(pgid: number): Promise<boolean> {
  if (process.platform === 'linux') return !(await linuxGroupHasLiveProcess(pgid));
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (error) {
    return errorCode(error) === 'ESRCH';
  }
}

async function linuxGroupHasLiveProcess(pgid: number): Promise<boolean> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const states = await Promise.all(pids.map((pid) => readStat(pid)));
  return states.some((stat) => stat !== null && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X');
}

/**
 * Parses /proc/PID/stat: `pid (comm) state ppid pgrp ... starttime ...`; comm may hold spaces and
 * parentheses. `startTime` (clock ticks since boot) tells a process from a later one with its pid.
 */
export async function readStat(pid: string | number): Promise<ProcessStat | null> {
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // exited between readdir and read
  }
}

/**
 * The same, read at once: a /proc file is made up by the kernel on read and never waits on a
 * disk, so the four thread-pool round trips of an async read (open, stat, read, close) only cost
 * time on a path that runs once per execution.
 */
export function readStatSync(pid: number): ProcessStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // already exited
  }
}

interface ProcessStat {
  state: string;
  pgrp: number;
  startTime: string;
}

function parseStat(text: string): ProcessStat {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], pgrp: Number(fields[2]), startTime: fields[19] };
}
