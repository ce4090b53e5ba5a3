import { randomUUID } from 'node:crypto';

/** A small seeded PRNG (mulberry32): the same seed replays the same junk. */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

const STRINGS = [
  '',
  ' ',
  '\0',
  'a\0b',
  '__proto__',
  'constructor',
  'prototype',
  '$(reboot)',
  '`id`',
  "'; drop table agents; --",
  '../../../../etc/passwd',
  '%00%0a',
  '\u202e\u200b\ufeff',
  '日本語',
  '🚀👩‍👩‍👧',
  '\ud800',
  'null',
  'true',
  '1e309',
  '-1',
  'NaN',
  '2026-13-45T25:61:61Z',
  '00000000-0000-0000-0000-000000000000',
];

const NUMBERS = [0, -0, -1, 1.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, Number.MAX_VALUE, Number.MIN_VALUE, Number.NaN, Number.POSITIVE_INFINITY];

const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', '\0', 'a'.repeat(300), '🚀'];

/**
 * Any JSON-ish value, sometimes long, wide or deep (only at the top, so one value stays well
 * under a megabyte); `__proto__` keys are own properties, as JSON.parse makes them.
 */
export function junkValue(rng: Prng, depth = 0): unknown {
  const top = depth === 0;
  switch (rng.int(depth > 3 ? 6 : 10)) {
    case 0:
      return rng.pick(STRINGS);
    case 1:
      return rng.pick(NUMBERS);
    case 2:
      return rng.pick([null, true, false, undefined]);
    case 3:
      return rng.pick(STRINGS).repeat(1 + rng.int(top && rng.chance(0.05) ? 10_000 : 5));
    case 4:
      return randomUUID();
    case 5:
      return new Date(rng.int(2 ** 42)).toISOString();
    case 6:
      return top && rng.chance(0.05)
        ? Array.from({ length: rng.int(2_000) }, () => junkValue(rng, 4))
        : Array.from({ length: rng.int(6) }, () => junkValue(rng, depth + 1));
    case 7:
      return nested(rng.int(top && rng.chance(0.1) ? 2_000 : 40));
    case 8:
      return JSON.parse(`{${Array.from({ length: 1 + rng.int(4) }, () => `${JSON.stringify(rng.pick(KEYS))}: ${JSON.stringify(junkValue(rng, depth + 1) ?? null)}`).join(', ')}}`);
    default:
      return Object.fromEntries(Array.from({ length: rng.int(6) }, () => [rng.pick([...KEYS, 'executionId', 'seq', 'data', 'status', 'target', 'argv']), junkValue(rng, depth + 1)]));
  }
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** A valid-looking template with one field dropped, retyped or replaced by junk. */
export function mutate(rng: Prng, template: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...template };
  const keys = Object.keys(copy);
  const key = rng.pick(keys);
  switch (rng.int(4)) {
    case 0:
      delete copy[key];
      break;
    case 1:
      copy[key] = junkValue(rng);
      break;
    case 2:
      // Defined, not assigned: assigning `__proto__` would set the prototype instead of a key.
      Object.defineProperty(copy, rng.pick(KEYS), { value: junkValue(rng), enumerable: true, writable: true, configurable: true });
      break;
    default:
      copy[key] = rng.pick([String(copy[key]), [copy[key]], { value: copy[key] }, 1, null]);
  }
  return copy;
}

const UNSTORABLE_TEXT = ['a\0b', '\0', '\ud800', 'x\udc00y', 'end\ud83d'];

/** The same value with some of its strings (values and keys, at any depth) swapped for text no database stores. */
export function withUnstorableText(rng: Prng, value: unknown): unknown {
  if (typeof value === 'string') return rng.chance(0.5) ? rng.pick(UNSTORABLE_TEXT) : value;
  if (Array.isArray(value)) return value.map((item) => withUnstorableText(rng, item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [rng.chance(0.1) ? rng.pick(UNSTORABLE_TEXT) : k, withUnstorableText(rng, v)]));
  }
  return value;
}
