import os from 'node:os';
import type { AgentFacts } from '@outpost/protocol';
import { osInfo } from 'systeminformation/lib/osinfo';

/** The few facts the handshake carries (protocol 1.0); the full set is `agent.facts`. */
export interface HostFacts {
  hostname: string;
  os: string;
  arch: string;
}

/** The hub names operating systems the way its users do, not the way Node does (`win32`). */
export function osName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

export function hostFacts(): HostFacts {
  return { hostname: os.hostname(), os: osName(process.platform), arch: process.arch };
}

/**
 * The host's addresses as others could reach it: loopback is left out (`internal`), and so are
 * IPv6 link-local addresses (fe80::/10), which mean nothing without the interface they belong to.
 */
export function ipAddressesFrom(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string[] {
  const addresses = new Set<string>();
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv6' && /^fe[89ab]/i.test(info.address)) continue;
      addresses.add(info.address);
    }
  }
  return [...addresses].slice(0, 64);
}

/** What systeminformation's `osInfo()` says; only the fields the facts use. */
export interface OsInfo {
  platform: string;
  distro: string;
  release: string;
  kernel: string;
}

export interface FactsSources {
  hostname: string;
  platform: NodeJS.Platform;
  arch: string;
  osInfo: OsInfo;
  cpus: Array<{ model: string }>;
  totalMemoryBytes: number;
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  agentVersion: string;
}

/** Bounded to the wire schema's limits, so an odd distro string can never get the facts refused. */
function clip(value: string | undefined, max: number): string {
  return (value ?? '').trim().slice(0, max);
}

/** Maps what the host reports onto `agent.facts` (pure, so it is tested without a host). */
export function agentFactsFrom(sources: FactsSources): AgentFacts {
  return {
    hostname: clip(sources.hostname, 255),
    os: osName(sources.platform),
    platform: clip(sources.osInfo.platform || sources.platform, 64),
    distro: clip(sources.osInfo.distro, 128),
    release: clip(sources.osInfo.release, 128),
    kernel: clip(sources.osInfo.kernel, 128),
    arch: clip(sources.arch, 32),
    cpuModel: clip(sources.cpus[0]?.model, 256),
    cpuCores: sources.cpus.length,
    memTotalBytes: sources.totalMemoryBytes,
    ipAddresses: ipAddressesFrom(sources.interfaces).map((address) => address.slice(0, 64)),
    agentVersion: clip(sources.agentVersion, 64),
  };
}

/** The release files do not change while the agent runs: read them once they were read successfully. */
let osInfoOnce: Promise<OsInfo> | undefined;

const UNKNOWN_OS: OsInfo = { platform: '', distro: '', release: '', kernel: '' };

/**
 * Collects the static facts (addresses are read again each time: DHCP may have moved them). Only `osInfo()` comes from systeminformation (it reads the release
 * files, ~40 ms); the rest is what Node already knows, which costs nothing. `si.cpu()` would run
 * lscpu and dmidecode for details the hub does not show.
 */
export async function collectAgentFacts(agentVersion: string): Promise<AgentFacts> {
  // A failed read is not kept: the next connection's facts try again.
  osInfoOnce ??= osInfo().catch(() => {
    osInfoOnce = undefined;
    return UNKNOWN_OS;
  });
  const info = await osInfoOnce;
  return agentFactsFrom({
    hostname: os.hostname(),
    platform: process.platform,
    arch: process.arch,
    osInfo: { ...info, kernel: info.kernel || os.release() },
    cpus: os.cpus(),
    totalMemoryBytes: os.totalmem(),
    interfaces: os.networkInterfaces(),
    agentVersion,
  });
}
