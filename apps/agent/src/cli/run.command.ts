import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import { Agent } from '../agent';
import { DEFAULT_SPOOL_MAX_BYTES } from '../spool/spool-store';
import { defaultConfigPath, readAgentConfig, writeAgentConfig } from '../config/agent-config';
import { hubRoute } from '../connection/hub-agent';
import { loadTlsPolicy } from '../connection/tls-policy';
import { errorMessage } from '../errors';
import { hostFacts } from '../health/host-facts';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../logging/logger';
import { CliError } from './cli-error';
import { parsePositiveInteger, parseSeconds } from './cli-options';

export interface RunOptions {
  config?: string;
  dataDir?: string;
  maxConcurrent: number;
  spoolMaxBytes: number;
  logLevel: LogLevel;
  killGraceSeconds: number;
  shutdownGraceSeconds: number;
}

export function runCommand(agentVersion: string): Command {
  return new Command('run')
    .description('connect to the hub and run what it dispatches until SIGTERM or SIGINT')
    .option('--config <file>', `config file (default ${defaultConfigPath()})`)
    .option(
      '--data-dir <dir>',
      'directory for the spool of unacked reports and temporary script files (default: the config file\'s directory)',
    )
    .option('--max-concurrent <n>', 'executions run at once; more wait on the hub', parsePositiveInteger, 8)
    .option(
      '--spool-max-bytes <n>',
      'disk the spool of unacked reports may use; when full, running commands\' output waits (they block on write)',
      parsePositiveInteger,
      DEFAULT_SPOOL_MAX_BYTES,
    )
    .addOption(
      new Option('--log-level <level>', 'log level (JSON lines on stderr)').choices(LOG_LEVELS).default('info'),
    )
    .option(
      '--kill-grace-seconds <s>',
      'after SIGTERM to a stopped command\'s process group, wait this long before SIGKILL',
      parseSeconds,
      5,
    )
    .option(
      '--shutdown-grace-seconds <s>',
      'on shutdown, let running executions finish for this long before stopping them',
      parseSeconds,
      30,
    )
    .action(async (options: RunOptions) => {
      await runAgent(options, agentVersion);
      // Exit without waiting for stragglers (a process that survived its kill, an idle keep-alive):
      // everything that matters has been reported or logged by now.
      process.exit(0);
    });
}

/**
 * Announced instead of the protocol version this build speaks. Tests use it to prove that an
 * incompatible agent is refused with PROTOCOL_MISMATCH; nobody should set it in production.
 */
const PROTOCOL_VERSION_OVERRIDE = 'OUTPOST_AGENT_PROTOCOL_VERSION';

export async function runAgent(options: RunOptions, agentVersion: string): Promise<void> {
  const configPath = options.config ?? defaultConfigPath();
  let config = await readAgentConfig(configPath);
  const policy = await loadTlsPolicy(config);
  const protocolVersion = process.env[PROTOCOL_VERSION_OVERRIDE] || undefined;
  const dataDir = options.dataDir ?? dirname(configPath);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CliError(`cannot create data directory ${dataDir}: ${errorMessage(error)}`);
  }

  const logger = createLogger(options.logLevel);
  const route = hubRoute(config.hubUrl, policy);
  const agent = newAgent({
    config,
    agentVersion,
    facts: hostFacts(),
    dataDir,
    spoolMaxBytes: options.spoolMaxBytes,
    maxConcurrent: options.maxConcurrent,
    killGraceMs: options.killGraceSeconds * 1_000,
    logger,
    httpAgent: route.agent,
    protocolVersion,
    // Same atomic 0600 write as enroll; everything else in the file stays as it was read at start.
    storeCredential: async (credential) => {
      const next = { ...config, credential };
      await writeAgentConfig(configPath, next);
      config = next;
    },
  });
  logger.info(
    {
      agentId: config.agentId,
      name: config.name,
      hubUrl: config.hubUrl,
      agentVersion,
      dataDir,
      maxConcurrent: options.maxConcurrent,
      spoolMaxBytes: options.spoolMaxBytes,
      ...(route.proxy !== undefined ? { proxy: route.proxy } : {}),
      ...(config.caFile !== undefined ? { caFile: config.caFile } : {}),
      ...(config.pin !== undefined ? { pin: config.pin } : {}),
    },
    'agent starting',
  );
  if (protocolVersion !== undefined) {
    logger.warn({ protocolVersion, variable: PROTOCOL_VERSION_OVERRIDE }, 'announcing an overridden protocol version');
  }
  agent.start();

  const signal = await shutdownSignal(logger);
  logger.info({ signal, graceSeconds: options.shutdownGraceSeconds }, 'shutting down');
  await agent.stop(options.shutdownGraceSeconds * 1_000);
  logger.info('stopped');
}

/** The agent opens its spool at once: a data dir it cannot use is the operator's to fix. */
function newAgent(options: ConstructorParameters<typeof Agent>[0]): Agent {
  try {
    return new Agent(options);
  } catch (error) {
    throw new CliError(`cannot open the spool in ${options.dataDir}: ${errorMessage(error)}`);
  }
}

/** Resolves on the first SIGTERM or SIGINT; later ones are only logged, so shutdown is never cut short. */
function shutdownSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) {
        logger.warn({ signal }, 'shutdown already in progress');
        return;
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
