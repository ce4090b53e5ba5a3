import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths';

/** Where `npm run build:agent` writes the single binaries (and the hub serves them from). */
export const AGENT_BINARIES_DIR = path.join(ROOT, 'dist/agent-binaries');

export const AGENT_BINARY = {
  linuxX64: path.join(AGENT_BINARIES_DIR, 'outpost-agent-linux-x64'),
  linuxArm64: path.join(AGENT_BINARIES_DIR, 'outpost-agent-linux-arm64'),
  winX64: path.join(AGENT_BINARIES_DIR, 'outpost-agent-win-x64.exe'),
  winServiceWrapper: path.join(AGENT_BINARIES_DIR, 'outpost-agent-service-wrapper-win-x64.exe'),
} as const;

/**
 * Building the binaries takes a minute, so tests that need one run only when it exists; CI builds
 * them first (`npm run build:agent`) and fails when such a test did not pass.
 */
export function hasBinary(file: string): boolean {
  return existsSync(file) && existsSync(`${file}.sha256`);
}

export const BUILD_HINT = 'run `npm run build:agent` first';
