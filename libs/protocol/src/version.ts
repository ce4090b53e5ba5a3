/**
 * The wire contract's version. The major is part of the namespace, so a breaking change is
 * served beside the old one; minors only add optional fields or events, announced as
 * capabilities in the handshake.
 */
export const PROTOCOL_VERSION = '1.1.0';
export const PROTOCOL_MAJOR = 1;
export const AGENT_NAMESPACE = `/agent/v${PROTOCOL_MAJOR}`;

/** Parses "MAJOR.MINOR.PATCH"; returns null for anything else. */
export function protocolMajorOf(version: string): number | null {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return match ? Number(match[1]) : null;
}
