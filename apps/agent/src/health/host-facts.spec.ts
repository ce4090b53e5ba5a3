import { agentFactsSchema } from '@outpost/protocol';
import { describe, expect, it } from 'vitest';
import { agentFactsFrom, collectAgentFacts, ipAddressesFrom } from './host-facts';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({
  address,
  family,
  internal,
  netmask: '',
  mac: '00:00:00:00:00:00',
  cidr: null,
  ...(family === 'IPv6' ? { scopeid: 0 } : {}),
});

describe('host facts', () => {
  it('lists reachable addresses only: no loopback, no IPv6 link-local, no duplicates', () => {
    expect(
      ipAddressesFrom({
        lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
        eth0: [iface('10.0.0.5', 'IPv4'), iface('fe80::1', 'IPv6'), iface('2001:db8::5', 'IPv6')],
        eth1: [iface('10.0.0.5', 'IPv4')],
      } as never),
    ).toEqual(['10.0.0.5', '2001:db8::5']);
  });

  it('maps what the host reports onto agent.facts, within the wire limits', () => {
    const facts = agentFactsFrom({
      hostname: 'web-1',
      platform: 'win32',
      arch: 'x64',
      osInfo: { platform: 'Windows', distro: 'Microsoft Windows Server 2022'.padEnd(200, '!'), release: '10.0.20348', kernel: '10.0.20348' },
      cpus: [{ model: ' AMD EPYC ' }, { model: 'AMD EPYC' }],
      totalMemoryBytes: 8_589_934_592,
      interfaces: { eth0: [iface('192.0.2.7', 'IPv4')] } as never,
      agentVersion: '1.2.3',
    });
    expect(agentFactsSchema.parse(facts)).toEqual({
      hostname: 'web-1',
      os: 'windows',
      platform: 'Windows',
      distro: 'Microsoft Windows Server 2022'.padEnd(128, '!'),
      release: '10.0.20348',
      kernel: '10.0.20348',
      arch: 'x64',
      cpuModel: 'AMD EPYC',
      cpuCores: 2,
      memTotalBytes: 8_589_934_592,
      ipAddresses: ['192.0.2.7'],
      agentVersion: '1.2.3',
    });
  });

  it.skipIf(process.platform !== 'linux')('collects this host’s facts', async () => {
    const facts = agentFactsSchema.parse(await collectAgentFacts('9.9.9'));
    expect(facts).toMatchObject({ os: 'linux', platform: 'linux', agentVersion: '9.9.9', arch: process.arch });
    expect(facts.kernel).not.toBe('');
    expect(facts.cpuCores).toBeGreaterThan(0);
  });
});
