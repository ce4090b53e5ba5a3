/**
 * The wire contract's version. The major is part of the namespace, so a breaking change is
 * served beside the old one; minors only add optional fields or events, announced as
 * capabilities in the handshake.
 */
export const PROTOCOL_VERSION = '1.5.0';
export const PROTOCOL_MAJOR = 1;
export const AGENT_NAMESPACE = `/agent/v${PROTOCOL_MAJOR}`;

/** Parses "MAJOR.MINOR.PATCH"; returns null for anything else. */
export function protocolMajorOf(version: string): number | null {
  return parseVersion(version)?.major ?? null;
}

/**
 * True when `version` (of the same major) is at least `minor`: a peer of an older minor does
 * not know the events that minor added, so they are not sent to it.
 */
export function protocolHasMinor(version: string, minor: number): boolean {
  const parsed = parseVersion(version);
  return parsed !== null && parsed.major === PROTOCOL_MAJOR && parsed.minor >= minor;
}

function parseVersion(version: string): { major: number; minor: number } | null {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : null;
}
