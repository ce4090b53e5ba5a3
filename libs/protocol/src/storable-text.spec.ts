import { describe, expect, it } from 'vitest';
import { storableText, unstorableTextPaths } from './storable-text';

describe('unstorableTextPaths', () => {
  it('finds NUL and unpaired surrogates in values and keys, and nothing in good text', () => {
    expect(
      unstorableTextPaths({
        ok: 'ünïcödé 🚀 日本語',
        nul: 'a\0b',
        list: ['fine', '\ud800', 'x\udc00'],
        nested: { ['bad\0key']: 1, deep: [{ lone: 'end\ud83d' }] },
      }).sort(),
    ).toEqual(['list.1', 'list.2', 'nested.bad\0key', 'nested.deep.0.lone', 'nul']);
    expect(unstorableTextPaths({ emoji: '👩‍👩‍👧', n: 1, b: Buffer.from([0]), d: new Date() })).toEqual([]);
  });

  it('walks deep values without recursion', () => {
    let deep: unknown = 'bottom\0';
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(unstorableTextPaths(deep)).toHaveLength(1);
  });
});

describe('storableText', () => {
  it('replaces NUL and unpaired surrogates, and keeps paired ones', () => {
    expect(storableText('a\0b')).toBe('a\ufffdb');
    expect(storableText('x\ud800')).toBe('x\ufffd');
    expect(storableText('\udc00y')).toBe('\ufffdy');
    expect(storableText('emoji 😀')).toBe('emoji 😀');
    expect(unstorableTextPaths(storableText('\0\ud800\udc00\udc00'))).toEqual([]);
  });
});
