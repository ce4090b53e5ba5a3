import { Command } from 'commander';
import { defaultConfigPath, readAgentConfig } from '../config/agent-config';
import { hubRoute } from '../connection/hub-agent';
import { describeConnectionError, hubRequest } from '../connection/hub-http';
import { defaultTrust, loadTlsPolicy } from '../connection/tls-policy';

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

/** Prints the identity (never the credential) and probes the hub the way `run` reaches it; returns the exit code. */
export async function status(options: StatusOptions, print: (line: string) => void): Promise<number> {
  const configPath = options.config ?? defaultConfigPath();
  const config = await readAgentConfig(configPath);
  print(`agent id: ${config.agentId}`);
  print(`name: ${config.name}`);
  print(`hub url: ${config.hubUrl}`);
  print(`config: ${configPath}`);
  if (config.caFile !== undefined) print(`ca file: ${config.caFile}`);
  if (config.pin !== undefined) print(`pinned certificate: ${config.pin}`);
  if (config.caFile === undefined && config.pin === undefined && config.hubUrl.startsWith('https:')) print(`trusts: ${defaultTrust()}`);
  const policy = await loadTlsPolicy(config);
  const route = hubRoute(config.hubUrl, policy);
  if (route.proxy !== undefined) print(`proxy: ${route.proxy}`);
  const probe = await probeHub(config.hubUrl, route.agent);
  print(`hub: ${probe.reachable ? 'reachable' : 'unreachable'} (${probe.detail})`);
  return probe.reachable ? 0 : 1;
}

async function probeHub(
  hubUrl: string,
  agent: ReturnType<typeof hubRoute>['agent'],
): Promise<{ reachable: boolean; detail: string }> {
  const started = performance.now();
  try {
    const response = await hubRequest(`${hubUrl}/health/live`, { method: 'GET', agent, timeoutMs: PROBE_TIMEOUT_MS });
    const ms = Math.round(performance.now() - started);
    return response.status === 200
      ? { reachable: true, detail: `HTTP ${response.status}, ${ms} ms` }
      : { reachable: false, detail: `HTTP ${response.status}` };
  } catch (error) {
    return { reachable: false, detail: describeConnectionError(error, PROBE_TIMEOUT_MS) };
  } finally {
    agent.destroy();
  }
}
