import { describe, expect, it } from 'vitest';
import { PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes with argon2id at or above OWASP parameters (19 MiB, 2 passes)', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    const [, algorithm, version, params] = hash.split('$');
    expect([algorithm, version]).toEqual(['argon2id', 'v=19']);
    const settings = Object.fromEntries(params.split(',').map((p) => p.split('=')));
    expect(Number(settings.m)).toBeGreaterThanOrEqual(19456);
    expect(Number(settings.t)).toBeGreaterThanOrEqual(2);
  });

  it('verifies the right password only, and never throws on a malformed hash', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'Correct horse battery staple')).toBe(false);
    expect(await hasher.verify('not-a-hash', 'anything')).toBe(false);
  });
});
