import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, and the sealed form does not contain the value', () => {
    const sealed = box.seal('hunter2 ✓ $(id)', 'TOKEN');
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('hunter2');
    expect(box.open(sealed, 'TOKEN')).toBe('hunter2 ✓ $(id)');
  });

  it('seals the same value differently each time', () => {
    expect(box.seal('same', 'A')).not.toBe(box.seal('same', 'A'));
  });

  it('refuses a value moved to another name, tampered with, or sealed under another key', () => {
    const sealed = box.seal('value', 'A');
    expect(() => box.open(sealed, 'B')).toThrow(/B cannot be opened/);
    const bytes = Buffer.from(sealed.slice(3), 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => box.open(`v1:${bytes.toString('base64')}`, 'A')).toThrow(/cannot be opened/);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'A')).toThrow(/cannot be opened/);
    expect(() => box.open('plaintext', 'A')).toThrow(/cannot be opened/);
  });
});
