import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, win32 } from 'node:path';
import { z } from 'zod';
import { errorCode, errorMessage } from '../errors';

/** Written by `enroll`, read by `run` and `status`. Holds the credential, so it is 0600. */
export const agentConfigSchema = z.object({
  // Not z.httpUrl(): it wants a domain name, and hubs are often reached by IP or `localhost`.
  hubUrl: z.url({ protocol: /^https?$/ }),
  agentId: z.uuid(),
  credential: z.string().min(16).max(256),
  name: z.string().min(1).max(255),
  /** PEM file of the CA(s) to trust for the hub instead of the system's (`enroll --ca-file`). */
  caFile: z.string().min(1).max(4096).optional(),
  /** `sha256:<64 hex>`: the hub's certificate must have this fingerprint (`enroll --pin`). */
  pin: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256: followed by 64 lowercase hex digits')
    .optional(),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** A problem with the config file, worded for the operator who has to fix it. */
export class AgentConfigError extends Error {
  constructor(
    message: string,
    /** `missing`: there is no file (yet); anything else means a file exists but cannot be used. */
    readonly problem: 'missing' | 'unreadable' | 'invalid' | 'unwritable' = 'invalid',
  ) {
    super(message);
  }
}

export function defaultConfigPath(
  platform: NodeJS.Platform = process.platform,
  programData: string | undefined = process.env.ProgramData,
): string {
  if (platform === 'win32') return win32.join(programData ?? 'C:\\ProgramData', 'Outpost', 'agent.json');
  return '/etc/outpost/agent.json';
}

export async function readAgentConfig(path: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      throw new AgentConfigError(`config file ${path} not found: run "outpost-agent enroll" first`, 'missing');
    }
    throw new AgentConfigError(`cannot read config file ${path}: ${errorMessage(error)}`, 'unreadable');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AgentConfigError(`config file ${path} is not valid JSON: ${errorMessage(error)}`);
  }
  const result = agentConfigSchema.safeParse(json);
  if (!result.success) {
    // Issue messages name the field and the rule, never the value, so the credential stays out.
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`)
      .join('; ');
    throw new AgentConfigError(`config file ${path} is invalid: ${problems}`);
  }
  return result.data;
}

/**
 * Writes the config atomically (a temp file in the same directory, then rename), so a crash or
 * a full disk never leaves a half-written identity behind, and with mode 0600 from the first
 * byte, so the credential is never readable by others, not even briefly.
 */
export async function writeAgentConfig(path: string, config: AgentConfig): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tempPath = join(dir, `.agent-${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(tempPath, 'wx', 0o600);
    try {
      await file.writeFile(`${JSON.stringify(config, null, 2)}\n`, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tempPath, path);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw new AgentConfigError(`cannot write config file ${path}: ${errorMessage(error)}`, 'unwritable');
  }
}
