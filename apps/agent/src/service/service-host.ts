import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorCode, errorMessage } from '../errors';

/** The side effects of installing a service, behind one interface so the rules are tested without them. */
export interface ServiceHost {
  readonly platform: NodeJS.Platform;
  exists(path: string): boolean;
  /** Replaces `path` atomically (temp file + rename) with `content` and `mode`. */
  writeFile(path: string, content: string, mode: number): Promise<void>;
  removeFile(path: string): Promise<void>;
  makeDirectory(path: string, mode: number): Promise<void>;
  /** Runs a program (no shell); never throws for a non-zero exit, only when it cannot start. */
  run(command: string, args: readonly string[]): Promise<{ exitCode: number; output: string }>;
  isAdministrator(): boolean;
}

const RUN_TIMEOUT_MS = 120_000;

export function realServiceHost(platform: NodeJS.Platform = process.platform): ServiceHost {
  return {
    platform,
    exists: (path) => existsSync(path),
    writeFile: async (path, content, mode) => {
      const temp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
      try {
        await writeFile(temp, content, { mode });
        await chmod(temp, mode);
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },
    removeFile: (path) => rm(path, { force: true }),
    makeDirectory: async (path, mode) => {
      await mkdir(path, { recursive: true, mode });
    },
    run: (command, args) =>
      new Promise((resolve, reject) => {
        execFile(command, [...args], { timeout: RUN_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
          const output = `${stdout}${stderr}`.trim();
          if (error === null) return resolve({ exitCode: 0, output });
          if (typeof error.code === 'number') return resolve({ exitCode: error.code, output });
          if (errorCode(error) === 'ENOENT') return reject(new Error(`${command} not found`));
          reject(new Error(`${command} failed: ${errorMessage(error)}`));
        });
      }),
    // Root on Unix. On Windows the service control manager is the judge: WinSW reports "access denied".
    isAdministrator: () => (typeof process.geteuid === 'function' ? process.geteuid() === 0 : true),
  };
}
