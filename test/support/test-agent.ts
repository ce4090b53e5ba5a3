import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Child } from './child-process';
import { AGENT_MAIN } from './paths';
import type { TestHub } from './test-hub';

export interface EnrolledAgent {
  agentId: string;
  configPath: string;
  dataDir: string;
}

export interface EnrollOptions {
  labels?: Record<string, string>;
  name?: string;
  /** The hub as the agent is told to reach it; default `hub.url` (a name only a proxy resolves, say). */
  hubUrl?: string;
  /** More `enroll` flags, such as `--ca-file` or `--pin`. */
  args?: string[];
  /** Added to the environment of the enroll process, such as `HTTPS_PROXY`. */
  env?: NodeJS.ProcessEnv;
}

/** Enrolls a real agent through the CLI, with an enrollment token made through the API. */
export async function enrollAgent(hub: TestHub, options: EnrollOptions = {}): Promise<EnrolledAgent> {
  const token = await hub.api('POST', '/api/v1/enrollment-tokens', { labels: options.labels ?? {}, maxUses: 1 });
  if (token.status !== 201) throw new Error(`token creation failed: ${token.text}`);
  // Inside the hub's data folder, so that destroying the hub cleans up its agents too.
  const dataDir = mkdtempSync(path.join(hub.dataDir, 'agent-'));
  const configPath = path.join(dataDir, 'agent.json');
  const args = ['enroll', '--hub', options.hubUrl ?? hub.url, '--token', token.body.token, '--config', configPath];
  if (options.name) args.push('--name', options.name);
  args.push(...(options.args ?? []));
  const enroll = new Child(process.execPath, [AGENT_MAIN, ...args], { ...process.env, ...options.env });
  await enroll.waitExit(30_000);
  if (enroll.exitCode !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`enroll failed (${enroll.exitCode}): ${enroll.output}`);
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { agentId: string };
  return { agentId: config.agentId, configPath, dataDir };
}

/** Runs the real agent process (`outpost-agent run`) with short kill grace for tests. */
export function startAgent(agent: EnrolledAgent, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
  return new Child(
    process.execPath,
    [AGENT_MAIN, 'run', '--config', agent.configPath, '--data-dir', agent.dataDir, '--kill-grace-seconds', '1', ...extraArgs],
    { ...process.env, ...env },
  );
}
