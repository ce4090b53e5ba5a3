import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ROOT } from './paths';

export const INSTALL_SH_TEMPLATE = path.join(ROOT, 'deploy/install/install.sh');
export const INSTALL_PS1_TEMPLATE = path.join(ROOT, 'deploy/install/install.ps1');

/** The hub's substitution, as its contract says: every placeholder becomes the public URL. */
export function withHubUrl(template: string, hubUrl: string): string {
  return template.replaceAll('__OUTPOST_HUB_URL__', hubUrl);
}

/**
 * A stand-in hub for the install script's own logic: it serves install.sh with its URL written
 * in, and whatever "agent binaries" a test gives it (usually a shell script that records how it
 * was called), with their checksums, unless a test asks for a wrong one.
 */
export class FakeInstallHub {
  readonly requests: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(binaries: Record<string, { content: string; sha256?: string }>): Promise<FakeInstallHub> {
    let hub: FakeInstallHub | undefined;
    const server = createServer((req, res) => {
      hub!.requests.push(req.url ?? '');
      if (req.url === '/install.sh') {
        res.end(withHubUrl(readFileSync(INSTALL_SH_TEMPLATE, 'utf8'), hub!.url));
        return;
      }
      const match = /^\/downloads\/agent\/([\w-]+?)(\.sha256)?$/.exec(req.url ?? '');
      const binary = match ? binaries[match[1]!] : undefined;
      if (!match || binary === undefined) {
        res.writeHead(404).end('not found');
        return;
      }
      const sha256 = binary.sha256 ?? createHash('sha256').update(binary.content).digest('hex');
      res.end(match[2] ? `${sha256}  outpost-agent-${match[1]}\n` : binary.content);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hub = new FakeInstallHub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return hub;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A fake agent binary: records each call's arguments (one line per call) in $OUTPOST_FAKE_LOG,
 * answers --version, writes a 0600 config on `enroll` (or fails it when $OUTPOST_FAKE_ENROLL_FAILS).
 */
export const FAKE_AGENT = `#!/bin/sh
printf '%s\\n' "$*" >> "$OUTPOST_FAKE_LOG"
case $1 in
  --version) echo 9.9.9-fake ;;
  enroll)
    if [ -n "\${OUTPOST_FAKE_ENROLL_FAILS:-}" ]; then echo 'enroll failed: UNAUTHORIZED: enrollment token expired' >&2; exit 1; fi
    while [ $# -gt 0 ]; do [ "$1" = --config ] && config=$2; shift; done
    mkdir -p "$(dirname "$config")" && (umask 077 && echo '{}' > "$config")
    echo "enrolled as fake (00000000-0000-4000-8000-000000000001); config written to $config" ;;
  install) echo 'service installed' ;;
esac
`;
