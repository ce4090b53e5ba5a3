import { Command } from 'commander';
import { z } from 'zod';
import { defaultConfigPath, writeAgentConfig } from '../config/agent-config';
import type { HostFacts } from '../health/host-facts';
import { CliError } from './cli-error';
import { describeFetchError } from './hub-http';

export interface EnrollOptions {
  hub: string;
  token: string;
  config?: string;
  name?: string;
}

export interface EnrollContext {
  agentVersion: string;
  facts: HostFacts;
  print: (line: string) => void;
}

const ENROLL_TIMEOUT_MS = 30_000;

const enrolledSchema = z.object({
  agentId: z.uuid(),
  credential: z.string().min(16).max(256),
  name: z.string().min(1).max(255),
});

const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export function enrollCommand(context: EnrollContext): Command {
  return new Command('enroll')
    .description('exchange an enrollment token for this host\'s agent identity and write the config file')
    .requiredOption('--hub <url>', 'hub URL, e.g. https://outpost.example.com')
    .requiredOption('--token <token>', 'enrollment token from the hub')
    .option('--config <file>', `config file to write (default ${defaultConfigPath()})`)
    .option('--name <name>', 'agent name (default: chosen by the hub)')
    .action((options: EnrollOptions) => enroll(options, context));
}

/** Trades the one-time token for an identity; the credential goes to the 0600 config file only. */
export async function enroll(options: EnrollOptions, context: EnrollContext): Promise<void> {
  const hubUrl = normalizeHubUrl(options.hub);
  const configPath = options.config ?? defaultConfigPath();
  const { facts } = context;
  let response: Response;
  try {
    response = await fetch(`${hubUrl}/api/v1/agents/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: options.token,
        name: options.name,
        hostname: facts.hostname,
        os: facts.os,
        arch: facts.arch,
        agentVersion: context.agentVersion,
      }),
      signal: AbortSignal.timeout(ENROLL_TIMEOUT_MS),
    });
  } catch (error) {
    throw new CliError(`enroll failed: cannot reach ${hubUrl}: ${describeFetchError(error, ENROLL_TIMEOUT_MS)}`);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const refusal = errorBodySchema.safeParse(body);
    throw new CliError(
      refusal.success
        ? `enroll failed: ${refusal.data.error.code}: ${refusal.data.error.message}`
        : `enroll failed: HTTP ${response.status} ${response.statusText}`,
    );
  }
  const enrolled = enrolledSchema.safeParse(body);
  if (!enrolled.success) {
    throw new CliError(`enroll failed: the hub answered HTTP ${response.status} without an agent identity`);
  }
  const { agentId, credential, name } = enrolled.data;
  await writeAgentConfig(configPath, { hubUrl, agentId, credential, name });
  context.print(`enrolled as ${name} (${agentId}); config written to ${configPath}`);
}

/** The hub URL as stored: http(s) only, no trailing slash, so paths can be appended as is. */
export function normalizeHubUrl(hub: string): string {
  let url: URL;
  try {
    url = new URL(hub);
  } catch {
    throw new CliError(`invalid --hub URL: ${hub}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid --hub URL: ${hub} (must start with http:// or https://)`);
  }
  return hub.replace(/\/+$/, '');
}
