import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionSpec } from '@outpost/protocol';

/** What to exec for a spec; `scriptPath` is a temp file to delete once the execution is over. */
export interface SpawnPlan {
  file: string;
  args: string[];
  scriptPath?: string;
}

type ScriptShell = Extract<ExecutionSpec, { kind: 'script' }>['shell'];

/**
 * User text always travels as one argv element (or as a file), never spliced into a shell line,
 * so nothing in it is re-parsed by a second shell.
 */
export async function prepareSpawn(
  spec: ExecutionSpec,
  target: { platform: NodeJS.Platform; dataDir: string; executionId: string },
): Promise<SpawnPlan> {
  switch (spec.kind) {
    case 'command':
      return target.platform === 'win32'
        ? { file: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-Command', spec.command] }
        : { file: '/bin/sh', args: ['-c', spec.command] };
    case 'argv':
      return { file: spec.argv[0], args: spec.argv.slice(1) };
    case 'script': {
      const scriptPath = await writeScript(spec.script, spec.shell, target.dataDir, target.executionId);
      return { ...scriptInterpreter(spec.shell, scriptPath, target.platform), scriptPath };
    }
  }
}

export async function discardSpawn(plan: SpawnPlan): Promise<void> {
  if (plan.scriptPath !== undefined) await rm(plan.scriptPath, { force: true });
}

const SCRIPT_EXTENSIONS: Record<ScriptShell, string> = {
  bash: 'sh',
  sh: 'sh',
  // PowerShell's -File refuses any other extension; cmd picks the interpreter by extension.
  powershell: 'ps1',
  pwsh: 'ps1',
  cmd: 'cmd',
};

async function writeScript(
  script: string,
  shell: ScriptShell,
  dataDir: string,
  executionId: string,
): Promise<string> {
  const dir = join(dataDir, 'scripts');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${executionId}.${SCRIPT_EXTENSIONS[shell]}`);
  // A leftover from a crashed agent would keep its old mode under a plain overwrite.
  await rm(path, { force: true });
  // cmd misreads labels and `goto` in files with bare LF line ends.
  const text = shell === 'cmd' ? script.replace(/\r?\n/g, '\r\n') : script;
  await writeFile(path, text, { mode: 0o700, flag: 'wx' });
  return path;
}

function scriptInterpreter(
  shell: ScriptShell,
  path: string,
  platform: NodeJS.Platform,
): { file: string; args: string[] } {
  switch (shell) {
    case 'bash':
      return { file: 'bash', args: [path] };
    case 'sh':
      return { file: platform === 'win32' ? 'sh' : '/bin/sh', args: [path] };
    case 'powershell':
      // The default execution policy on Windows clients (Restricted) refuses to run any file.
      return {
        file: 'powershell.exe',
        args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', path],
      };
    case 'pwsh':
      return { file: 'pwsh', args: ['-NoProfile', '-NonInteractive', '-File', path] };
    case 'cmd':
      return { file: 'cmd.exe', args: ['/d', '/c', path] };
  }
}
