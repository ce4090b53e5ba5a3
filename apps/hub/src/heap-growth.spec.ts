import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_FLAG, HEAP_GROWING_PERCENT, limitHeapGrowth } from './heap-growth';

/**
 * The factors V8 traces for the old generation's next limit in a process that collects: Node 20
 * prints the one it chose in its `Limit:` line, Node 22+ in its `factor` line.
 */
function growingFactors(flagSetAtRuntime: string | null): string[] {
  const script = `${flagSetAtRuntime ? `require('node:v8').setFlagsFromString(${JSON.stringify(flagSetAtRuntime)});` : ''}
    const kept = []; for (let i = 0; i < 200000; i++) kept.push({ i }); globalThis.gc(); globalThis.gc();`;
  const output = execFileSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '-e', script], { encoding: 'utf8' });
  return [...output.matchAll(/\[HeapController\] (?:factor |Limit: .*\()(\d+\.\d+)/g)].map((m) => m[1]);
}

describe('limitHeapGrowth', () => {
  it('leaves a growing percent the hub was started with alone', () => {
    expect(limitHeapGrowth(['--heap-growing-percent=50'])).toBe(false);
    expect(limitHeapGrowth(['--max-old-space-size=512', '--heap_growing_percent=50'])).toBe(false);
  });

  it('sets the percent otherwise', () => {
    expect(limitHeapGrowth(['--max-old-space-size=512'])).toBe(true);
  });

  it('takes effect when set after V8 started, as the hub sets it', () => {
    const expected = (1 + HEAP_GROWING_PERCENT / 100).toFixed(1);
    expect(growingFactors(HEAP_GROWING_FLAG)).toContain(expected);
    expect(growingFactors(null)).not.toContain(expected);
  });
});
