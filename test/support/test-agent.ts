import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Child } from './child-process';
import { AGENT_MAIN } from './paths';
import type { TestHub } from './test-hub';

/** The agent as a command line: the bundle on this Node by default, or a single binary. */
export const BUNDLED_AGENT: readonly string[] = [process.execPath, AGENT_MAIN];

export interface EnrolledAgent {
  agentId: string;
  /** The agent it was enrolled with, which `startAgent` runs too. */
  command: readonly string[];
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
  /** Default `BUNDLED_AGENT`. */
  command?: readonly string[];
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
  const [program, ...prefix] = options.command ?? BUNDLED_AGENT;
  const enroll = new Child(program!, [...prefix, ...args], { ...process.env, ...options.env });
  await enroll.waitExit(30_000);
  if (enroll.exitCode !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`enroll failed (${enroll.exitCode}): ${enroll.output}`);
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { agentId: string };
  return { agentId: config.agentId, command: options.command ?? BUNDLED_AGENT, configPath, dataDir };
}

/** Runs the real agent process (`outpost-agent run`) with short kill grace for tests. */
export function startAgent(agent: EnrolledAgent, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
  const [program, ...prefix] = agent.command;
  return new Child(
    program!,
    [...prefix, 'run', '--config', agent.configPath, '--data-dir', agent.dataDir, '--kill-grace-seconds', '1', ...extraArgs],
    { ...process.env, ...env },
  );
}
