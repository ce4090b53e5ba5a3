import { Command } from 'commander';
import { defaultConfigPath, readAgentConfig } from '../config/agent-config';
import { describeFetchError } from './hub-http';

export interface StatusOptions {
  config?: string;
}

const PROBE_TIMEOUT_MS = 5_000;

export function statusCommand(print: (line: string) => void): Command {
  return new Command('status')
    .description('show this agent\'s identity and whether the hub answers; exit 1 when it does not')
    .option('--config <file>', `config file (default ${defaultConfigPath()})`)
    .action(async (options: StatusOptions) => {
      process.exitCode = await status(options, print);
    });
}

/** Prints the identity (never the credential) and probes the hub; returns the exit code. */
export async function status(options: StatusOptions, print: (line: string) => void): Promise<number> {
  const configPath = options.config ?? defaultConfigPath();
  const config = await readAgentConfig(configPath);
  print(`agent id: ${config.agentId}`);
  print(`name: ${config.name}`);
  print(`hub url: ${config.hubUrl}`);
  print(`config: ${configPath}`);
  const probe = await probeHub(config.hubUrl);
  print(`hub: ${probe.reachable ? 'reachable' : 'unreachable'} (${probe.detail})`);
  return probe.reachable ? 0 : 1;
}

async function probeHub(hubUrl: string): Promise<{ reachable: boolean; detail: string }> {
  const started = performance.now();
  try {
    const response = await fetch(`${hubUrl}/health/live`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.arrayBuffer();
    const ms = Math.round(performance.now() - started);
    return response.ok
      ? { reachable: true, detail: `HTTP ${response.status}, ${ms} ms` }
      : { reachable: false, detail: `HTTP ${response.status}` };
  } catch (error) {
    return { reachable: false, detail: describeFetchError(error, PROBE_TIMEOUT_MS) };
  }
}
