import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, protocolHasMinor, protocolMajorOf } from './version';

describe('protocol versions', () => {
  it('reads the major, and tells whether a peer of this major has a minor', () => {
    expect(protocolMajorOf(PROTOCOL_VERSION)).toBe(1);
    expect(protocolMajorOf('1.2')).toBeNull();
    expect(protocolHasMinor('1.2.0', 2)).toBe(true);
    expect(protocolHasMinor('1.10.3', 2)).toBe(true);
    expect(protocolHasMinor('1.1.9', 2)).toBe(false);
    expect(protocolHasMinor('2.5.0', 2)).toBe(false);
    expect(protocolHasMinor('garbage', 0)).toBe(false);
  });
});
