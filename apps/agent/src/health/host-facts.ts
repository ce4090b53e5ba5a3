import { hostname } from 'node:os';

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
  return { hostname: hostname(), os: osName(process.platform), arch: process.arch };
}
