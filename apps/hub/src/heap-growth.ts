import { setFlagsFromString } from 'node:v8';

/**
 * How far past what the last full collection found alive V8 may let the old generation grow
 * before it collects again. V8 picks up to 4x when collecting is cheap next to allocating, and
 * keeps the pages it grew into: after 10,000 agents enrolled or connected, the hub idled with
 * 70-150 MB of heap committed and unused. At 20 % it collects a little more often and keeps its
 * heap near what is alive (docs/architecture.md, "Tenth pass").
 */
export const HEAP_GROWING_PERCENT = 20;
export const HEAP_GROWING_FLAG = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;

/** Sets it, unless the hub was started with a `--heap-growing-percent` of its own; says whether it did. */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlagsFromString(HEAP_GROWING_FLAG);
  return true;
}
