import { describe, expect, it } from 'vitest';
import { SecretMasker } from './secret-masker';

/** Feeds the writes one by one and returns everything that would have left the process. */
function run(secrets: string[], writes: string[]): string {
  const masker = new SecretMasker(secrets);
  const out = writes.map((write) => masker.write(Buffer.from(write)));
  out.push(masker.end());
  return Buffer.concat(out).toString();
}

describe('SecretMasker', () => {
  it('masks every occurrence within one write', () => {
    expect(run(['hunter2'], ['pw=hunter2 again hunter2\n'])).toBe('pw=*** again ***\n');
  });

  it('masks a secret split across two writes', () => {
    expect(run(['hunter2'], ['pw=hun', 'ter2!\n'])).toBe('pw=***!\n');
  });

  it('masks a secret split across many one-byte writes', () => {
    expect(run(['s3cr3t'], [...'xx s3cr3t yy'])).toBe('xx *** yy');
  });

  it('never lets any byte of a split secret out before it is decided', () => {
    const masker = new SecretMasker(['hunter2']);
    expect(masker.write(Buffer.from('pw=hunt')).toString()).toBe('pw=');
    expect(masker.write(Buffer.from('er2')).toString()).toBe('***');
  });

  it('holds back only a tail that could still become a secret', () => {
    const masker = new SecretMasker(['hunter2']);
    expect(masker.write(Buffer.from('prompt> ')).toString()).toBe('prompt> ');
    expect(masker.write(Buffer.from('hx')).toString()).toBe('hx');
  });

  it('releases a partial secret at the end of the stream', () => {
    expect(run(['hunter2'], ['ends with hunt'])).toBe('ends with hunt');
  });

  it('releases held bytes that turn out not to be the secret', () => {
    expect(run(['hunter2'], ['a hunte', 'x b'])).toBe('a huntex b');
  });

  it('masks the longer of two overlapping secrets whole', () => {
    expect(run(['abc', 'abcdef'], ['1 abc', 'def 2 abc 3'])).toBe('1 *** 2 *** 3');
  });

  it('masks multi-byte UTF-8 secrets split inside a character', () => {
    const secret = 'pässwörd';
    const bytes = Buffer.from(`x ${secret} y`);
    const masker = new SecretMasker([secret]);
    const out = Buffer.concat([masker.write(bytes.subarray(0, 4)), masker.write(bytes.subarray(4)), masker.end()]);
    expect(out.toString()).toBe('x *** y');
  });

  it('passes data through untouched without secrets, and ignores empty ones', () => {
    expect(run([], ['plain'])).toBe('plain');
    expect(run([''], ['plain'])).toBe('plain');
  });

  it('masks a complete text', () => {
    expect(new SecretMasker(['tok']).maskText('cwd /x/tok/y')).toBe('cwd /x/***/y');
  });
});
