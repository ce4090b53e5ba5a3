import { Command } from 'commander';
import { z } from 'zod';
import {
  AgentConfigError,
  defaultConfigPath,
  readAgentConfig,
  writeAgentConfig,
  type AgentConfig,
} from '../config/agent-config';
import { hubRoute } from '../connection/hub-agent';
import { describeConnectionError, hubRequest, type HubResponse } from '../connection/hub-http';
import { absoluteCaFile, loadTlsPolicy, normalizePin } from '../connection/tls-policy';
import type { HostFacts } from '../health/host-facts';
import { CliError } from './cli-error';

export interface EnrollOptions {
  hub: string;
  token: string;
  config?: string;
  name?: string;
  caFile?: string;
  pin?: string;
  replace?: boolean;
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
    .option('--ca-file <file>', 'PEM file of the CA(s) that signed the hub\'s certificate, used instead of the system\'s')
    .option(
      '--pin <sha256:fingerprint>',
      'accept only the hub certificate with this SHA-256 fingerprint (openssl x509 -noout -fingerprint -sha256)',
    )
    .option('--replace', 're-enroll a host that already has an identity; the hub keeps its agent record')
    .action((options: EnrollOptions) => enroll(options, context));
}

/**
 * Trades the one-time token for an identity; the credential goes to the 0600 config file only.
 * A host that already holds an identity is re-enrolled only when asked (`--replace`), and then
 * proves it with its old credential so the hub keeps the same agent record: never a silent duplicate.
 */
export async function enroll(options: EnrollOptions, context: EnrollContext): Promise<void> {
  const hubUrl = normalizeHubUrl(options.hub);
  const configPath = options.config ?? defaultConfigPath();
  const pin = options.pin === undefined ? undefined : normalizePin(options.pin);
  const caFile = options.caFile === undefined ? undefined : absoluteCaFile(options.caFile);
  const existing = await existingIdentity(configPath);
  if (existing.kind === 'identity' && !options.replace) {
    const { name, agentId } = existing.config;
    throw new CliError(`already enrolled as ${name} (${agentId}); use --replace to re-enroll this host`);
  }
  if (existing.kind === 'unreadable' && !options.replace) {
    throw new CliError(`${existing.problem}; use --replace to enroll anyway and overwrite it`);
  }
  // The old credential proves who we were, but only to the hub that issued it.
  const previous =
    existing.kind === 'identity' && options.replace && existing.config.hubUrl === hubUrl
      ? { agentId: existing.config.agentId, credential: existing.config.credential }
      : undefined;

  const policy = await loadTlsPolicy({ caFile, pin });
  const { facts } = context;
  let response: HubResponse;
  try {
    response = await hubRequest(`${hubUrl}/api/v1/agents/enroll`, {
      method: 'POST',
      agent: hubRoute(hubUrl, policy).agent,
      timeoutMs: ENROLL_TIMEOUT_MS,
      json: {
        token: options.token,
        name: options.name,
        hostname: facts.hostname,
        os: facts.os,
        arch: facts.arch,
        agentVersion: context.agentVersion,
        ...(options.replace ? { replace: true } : {}),
        ...(previous ? { previous } : {}),
      },
    });
  } catch (error) {
    throw new CliError(`enroll failed: cannot reach ${hubUrl}: ${describeConnectionError(error, ENROLL_TIMEOUT_MS)}`);
  }
  const body = parseJson(response.body);
  if (response.status < 200 || response.status > 299) {
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
  const config: AgentConfig = {
    hubUrl,
    agentId,
    credential,
    name,
    ...(caFile !== undefined ? { caFile } : {}),
    ...(pin !== undefined ? { pin } : {}),
  };
  await writeAgentConfig(configPath, config);
  const how = previous?.agentId === agentId ? 're-enrolled' : 'enrolled';
  context.print(`${how} as ${name} (${agentId}); config written to ${configPath}`);
}

type ExistingIdentity =
  | { kind: 'none' }
  | { kind: 'identity'; config: AgentConfig }
  | { kind: 'unreadable'; problem: string };

async function existingIdentity(configPath: string): Promise<ExistingIdentity> {
  try {
    return { kind: 'identity', config: await readAgentConfig(configPath) };
  } catch (error) {
    if (!(error instanceof AgentConfigError)) throw error;
    if (error.problem === 'missing') return { kind: 'none' };
    return { kind: 'unreadable', problem: error.message };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
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
