import { describe, expect, it } from 'vitest';
import { originAllowed } from './live-origin';

describe('originAllowed', () => {
  const publicUrl = 'https://hub.example.test';

  it('accepts clients that send no Origin (not a browser)', () => {
    expect(originAllowed(undefined, 'hub.example.test', publicUrl)).toBe(true);
  });

  it('accepts the public URL and the host the browser asked for', () => {
    expect(originAllowed('https://hub.example.test', 'other:1', publicUrl)).toBe(true);
    expect(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', publicUrl)).toBe(true);
  });

  it('refuses another site, a look-alike host, and garbage', () => {
    expect(originAllowed('https://evil.test', 'hub.example.test', publicUrl)).toBe(false);
    expect(originAllowed('https://hub.example.test.evil.test', 'hub.example.test', publicUrl)).toBe(false);
    expect(originAllowed('http://hub.example.test', 'hub.example.test:443', publicUrl)).toBe(false);
    expect(originAllowed('null', 'hub.example.test', publicUrl)).toBe(false);
  });
});
