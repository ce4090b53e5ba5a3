import { Inject, Injectable } from '@nestjs/common';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, type ReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { AppError } from '../common/errors/app-error';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { AGENT_BINARIES_DIR, INSTALL_SCRIPTS_DIR } from '../config/repo-paths';

/** Download names (the URL's last part) and the files `npm run build:agent` writes for them. */
export const AGENT_DOWNLOADS: Readonly<Record<string, string>> = {
  'linux-x64': 'outpost-agent-linux-x64',
  'linux-arm64': 'outpost-agent-linux-arm64',
  'win-x64': 'outpost-agent-win-x64.exe',
  'win-x64-service-wrapper': 'outpost-agent-service-wrapper-win-x64.exe',
};

export const INSTALL_SCRIPTS = { 'install.sh': 'install.sh', 'install.ps1': 'install.ps1' } as const;
const HUB_URL_PLACEHOLDER = /__OUTPOST_HUB_URL__/g;

export interface Download {
  fileName: string;
  sha256: string;
  size: number;
  encoding: 'gzip' | 'identity';
  open(): ReadStream;
}

const NOT_BUILT = 'The agent binaries have not been built on this hub: run `npm run build:agent` and try again';

/** Serves the agent binaries (gzip-compressed once, then from a cache) and the install scripts. */
@Injectable()
export class DownloadsService {
  private readonly compressing = new Map<string, Promise<string>>();

  constructor(@Inject(HUB_CONFIG) private readonly config: HubConfig) {}

  /** `linux-x64` → the binary; `linux-x64.sha256` → its checksum line. */
  async agentFile(name: string, acceptsGzip: boolean): Promise<Download | { checksum: string }> {
    const isChecksum = name.endsWith('.sha256');
    const fileName = AGENT_DOWNLOADS[isChecksum ? name.slice(0, -'.sha256'.length) : name];
    if (!fileName) {
      throw new AppError('NOT_FOUND', `No download named ${name}; available: ${Object.keys(AGENT_DOWNLOADS).join(', ')} (add .sha256 for the checksum)`);
    }
    const file = path.join(AGENT_BINARIES_DIR, fileName);
    const checksumFile = `${file}.sha256`;
    if (!existsSync(file) || !existsSync(checksumFile)) throw new AppError('UNAVAILABLE', NOT_BUILT);
    const checksum = readFileSync(checksumFile, 'utf8');
    if (isChecksum) return { checksum };
    const sha256 = checksum.split(/\s+/)[0]!;
    const served = acceptsGzip ? await this.gzipped(file, sha256) : file;
    const { size } = await stat(served);
    return { fileName, sha256, size, encoding: acceptsGzip ? 'gzip' : 'identity', open: () => createReadStream(served) };
  }

  /** An install script with this hub's public URL written in. */
  async installScript(name: keyof typeof INSTALL_SCRIPTS): Promise<string> {
    const template = await readFile(path.join(INSTALL_SCRIPTS_DIR, INSTALL_SCRIPTS[name]), 'utf8').catch(() => null);
    if (template === null) throw new AppError('UNAVAILABLE', `${name} is missing from this hub's installation (deploy/install/${name})`);
    return template.replace(HUB_URL_PLACEHOLDER, this.config.publicUrl);
  }

  /** Compresses a binary once per content (keyed by its checksum) into the data dir; concurrent requests share the work. */
  private gzipped(file: string, sha256: string): Promise<string> {
    const dir = path.join(this.config.dataDir, 'download-cache');
    const target = path.join(dir, `${path.basename(file)}.${sha256.slice(0, 16)}.gz`);
    if (existsSync(target)) return Promise.resolve(target);
    let pending = this.compressing.get(target);
    if (!pending) {
      pending = (async () => {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const temp = `${target}.${process.pid}.tmp`;
        await pipeline(createReadStream(file), createGzip({ level: 6 }), createWriteStream(temp));
        renameSync(temp, target);
        return target;
      })().finally(() => this.compressing.delete(target));
      this.compressing.set(target, pending);
    }
    return pending;
  }
}
